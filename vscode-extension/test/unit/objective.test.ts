import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createRunParams, optionItems, validateObjective } from '../../src/logic/objective';
import { readSettings } from '../../src/logic/settings';

const defaults = readSettings(() => undefined);

test('an empty or blank objective is refused with a reason', () => {
  assert.ok(validateObjective('   '));
  assert.equal(validateObjective('Add a flag'), undefined);
});

test('with nothing picked and default settings the options are empty', () => {
  assert.deepEqual(createRunParams('  Add a flag ', new Set(), defaults), { objective: 'Add a flag', options: {} });
});

test('picked options and a typed model become run options', () => {
  const p = createRunParams('x', new Set(['review', 'serial', 'model']), defaults, 'openai:gpt-4.1');
  assert.deepEqual(p.options, { reviewGate: true, workers: 1, model: 'openai:gpt-4.1' });
});

test('settings preset the choices and fill the rest of the options', () => {
  const s = readSettings((k) => ({ reviewGate: true, workers: 3, 'budget.usd': 2, 'models.default': 'scripted:demo' })[k]);
  assert.deepEqual(optionItems(s).map((o) => [o.id, o.picked]), [
    ['review', true],
    ['serial', false],
    ['model', false],
  ]);
  assert.deepEqual(createRunParams('x', new Set(), s).options, { reviewGate: false, workers: 3, model: 'scripted:demo', budgetUsd: 2 });
});
