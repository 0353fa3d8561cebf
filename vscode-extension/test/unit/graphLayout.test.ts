import assert from 'node:assert/strict';
import { test } from 'node:test';

import { graphModel, layers, linkChange, NODE_H, NODE_W } from '../../src/logic/graphLayout';
import { task } from './fixtures';

const diamond = [task(1, 1), task(2, 1, { dependencies: [1] }), task(3, 1, { dependencies: [1], state: 'complete' }), task(4, 1, { dependencies: [2, 3] })];

test('depth is one more than the deepest dependency', () => {
  assert.deepEqual([...layers(diamond).entries()].sort(), [
    [1, 0],
    [2, 1],
    [3, 1],
    [4, 2],
  ]);
});

test('a cycle does not hang the layout', () => {
  const d = layers([task(1, 1, { dependencies: [2] }), task(2, 1, { dependencies: [1] })]);
  assert.equal(d.size, 2);
});

test('nodes sit in columns by depth without overlapping, coloured by state', () => {
  const g = graphModel(1, diamond);
  const pos = new Map(g.nodes.map((n) => [n.id, n]));
  assert.ok((pos.get(2)?.x ?? 0) > (pos.get(1)?.x ?? 0));
  assert.equal(pos.get(2)?.x, pos.get(3)?.x);
  assert.ok(Math.abs((pos.get(2)?.y ?? 0) - (pos.get(3)?.y ?? 0)) >= NODE_H);
  assert.equal(pos.get(3)?.color, 'charts.green');
  assert.ok(g.width >= 3 * NODE_W);
  assert.deepEqual(g.edges.map((e) => `${String(e.from)}>${String(e.to)}`).sort(), ['1>2', '1>3', '2>4', '3>4']);
});

test('linking toggles a dependency and refuses nonsense', () => {
  assert.deepEqual(linkChange(diamond, 1, 4), { add: true });
  assert.deepEqual(linkChange(diamond, 2, 4), { add: false });
  assert.ok('problem' in linkChange(diamond, 4, 4));
  assert.ok('problem' in linkChange(diamond, 9, 4));
});
