// A small ACP client on the official TypeScript SDK (@agentclientprotocol/sdk), which
// validates every message against the ACP schema. It starts the agent command given
// after `--`, drives one scripted session and writes what it saw as one JSON document.
//
//   node harness.mjs SDK_DIR SCRIPT_JSON -- bosun acp
//
// SCRIPT_JSON: {"cwd": "...", "out": "seen.json", "objective": "...",
//               "pick": an option id or prefix ("choice", "approve-always") | "later" | "hold",
//               "review": "review-approve" | "review-reject" | "later",
//               "cancelOn": null | "tool_call", "load": true, "followUp": "text" | null}
import { spawn } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { writeFileSync } from "node:fs";

const [sdkDir, scriptJson, dashdash, ...agentCommand] = process.argv.slice(2);
if (dashdash !== "--" || agentCommand.length === 0) {
  console.error("usage: node harness.mjs SDK_DIR SCRIPT_JSON -- AGENT COMMAND");
  process.exit(2);
}
const script = JSON.parse(scriptJson);
const acp = await import(pathToFileURL(path.join(sdkDir, "dist/v1/stable/acp.js")).href);
const { client, methods, ndJsonStream } = acp;

const seen = { updates: [], permissions: [], turns: [], errors: [], loadUpdates: [] };
let loading = false;
let cancelSent = false;
let currentSession = null;
let ctxRef = null;

const agent = spawn(agentCommand[0], agentCommand.slice(1), {
  cwd: script.cwd,
  stdio: ["pipe", "pipe", "inherit"],
});
const stream = ndJsonStream(Writable.toWeb(agent.stdin), Readable.toWeb(agent.stdout));

// "later" dismisses the request, "hold" never answers it (another client will).
function pickOption(options) {
  const byId = (p) => options.find((o) => o.optionId === p);
  if (options.some((o) => o.optionId.startsWith("review-"))) {
    return script.review === "later" ? null : (byId(script.review ?? "review-approve") ?? options[0]).optionId;
  }
  if (script.pick === "later") return null;
  if (script.pick === "hold") return "hold";
  const byPrefix = (p) => options.find((o) => o.optionId.startsWith(p));
  return (byId(script.pick) ?? byPrefix(script.pick) ?? byPrefix("choice") ?? options[0]).optionId;
}

const app = client({ name: "bosun-acp-harness" })
  .onRequest(methods.client.session.requestPermission, async ({ params }) => {
    seen.permissions.push(params);
    const option = pickOption(params.options);
    if (option === "hold") return new Promise(() => {});
    if (option === null) return { outcome: { outcome: "cancelled" } };
    return { outcome: { outcome: "selected", optionId: option } };
  })
  .onNotification(methods.client.session.update, async ({ params }) => {
    (loading ? seen.loadUpdates : seen.updates).push(params.update);
    const kind = params.update.sessionUpdate;
    if (script.cancelOn && kind === script.cancelOn && !cancelSent && currentSession) {
      cancelSent = true;
      await ctxRef.notify(methods.agent.session.cancel, { sessionId: currentSession });
    }
  });

const timer = setTimeout(() => {
  seen.errors.push("harness timed out");
  writeFileSync(script.out, JSON.stringify(seen));
  agent.kill("SIGTERM");
  process.exit(3);
}, (script.timeoutS ?? 240) * 1000);

try {
  await app.connectWith(stream, async (ctx) => {
    ctxRef = ctx;
    seen.initialize = await ctx.request(methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: "bosun-acp-harness", version: "1" },
    });
    const created = await ctx.request(methods.agent.session.new, { cwd: script.cwd, mcpServers: [] });
    currentSession = created.sessionId;
    seen.sessionId = created.sessionId;
    const prompts = [script.objective, ...(script.followUp ? [script.followUp] : [])];
    for (const text of prompts) {
      const result = await ctx.request(methods.agent.session.prompt, {
        sessionId: currentSession,
        prompt: [{ type: "text", text }],
      });
      seen.turns.push(result.stopReason);
    }
    seen.list = await ctx.request(methods.agent.session.list, { cwd: script.cwd });
    if (script.load && seen.list.sessions.length > 0) {
      loading = true;
      const target = seen.list.sessions[0].sessionId;
      seen.loaded = target;
      await ctx.request(methods.agent.session.load, { cwd: script.cwd, sessionId: target, mcpServers: [] });
      loading = false;
    }
  });
} catch (err) {
  seen.errors.push(String(err?.stack ?? err));
}
clearTimeout(timer);
agent.stdin.end();
// A file, not stdout: process.exit() does not wait for a pipe to take a large write.
writeFileSync(script.out, JSON.stringify(seen));
process.exit(0);
