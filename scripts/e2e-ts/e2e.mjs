// End-to-end check of brummer-mcp with the official TypeScript SDK client
// (@modelcontextprotocol/sdk), as a user's agent would drive it, against
// the project in testdata/fixture-project. Run by scripts/e2e-ts.sh, which
// builds the server, installs the SDK next to a copy of this file and
// copies the fixture; by hand:
//
//   node e2e.mjs --transport stdio|http --server BIN --project DIR --workdir DIR
//
// One run per transport: stdio (the SDK starts the server with --cwd DIR)
// or streamable HTTP (this script starts it with --no-stdio --http
// 127.0.0.1:0 and reads the bound address from its log). Each check prints
// one PASS or FAIL line; a FAIL shows the requests and responses of its
// check. Exit status 0 when all passed, 1 otherwise.
//
// Processes are found by the marker "brummer-e2e-fixture" in the fixture's
// commands (pgrep -f), narrowed to this run's by BRUMMER_E2E_RUN, which the
// server gets in its environment and passes on to every process it starts.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
	LoggingMessageNotificationSchema,
	ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";

const { values: opt } = parseArgs({
	options: {
		transport: { type: "string" },
		server: { type: "string" },
		project: { type: "string" },
		workdir: { type: "string" },
		timeout: { type: "string", default: "90" },
	},
});
for (const k of ["transport", "server", "project", "workdir"]) {
	if (!opt[k]) {
		console.error(`e2e.mjs: --${k} is required`);
		process.exit(2);
	}
}
if (opt.transport !== "stdio" && opt.transport !== "http") {
	console.error(`e2e.mjs: --transport must be stdio or http, got ${opt.transport}`);
	process.exit(2);
}
const T = opt.transport;
const SERVER = path.resolve(opt.server);
const PROJECT = fs.realpathSync(opt.project);
const WORK = path.resolve(opt.workdir);
const SERVER_LOG = path.join(WORK, "server.log");
const MARKER = "brummer-e2e-fixture";
const RUN_ID = `${T}-${process.pid}-${randomBytes(4).toString("hex")}`;
const RUN_ENV = `BRUMMER_E2E_RUN=${RUN_ID}`;

const EXPECTED_TOOLS = [
	"process_input", "process_list", "process_logs", "process_restart",
	"process_start", "process_stop", "process_wait",
];
const TOOLS_LIST_MAX_BYTES = 12000;
const API_URL = "http://localhost:4173"; // api prints http://0.0.0.0:4173
const PANIC = "panic: e2e crash requested";

// ---------------------------------------------------------------- checks

let failures = 0;
let transcript = []; // requests and responses of the running check

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class CheckError extends Error {}

function expect(cond, message) {
	if (!cond) throw new CheckError(message);
}

function show(v, max = 4000) {
	const s = typeof v === "string" ? v : JSON.stringify(v);
	return s.length > max ? `${s.slice(0, max)}... (${s.length} chars)` : s;
}

// check runs one check: PASS with fn's note, or FAIL with the error and
// the requests and responses made meanwhile.
async function check(title, fn) {
	transcript = [];
	try {
		const note = await fn();
		console.log(`PASS ${T}: ${title}${note ? ` (${note})` : ""}`);
		return true;
	} catch (e) {
		failures++;
		const why = e instanceof CheckError ? e.message : `${e?.name ?? "Error"}: ${e?.message ?? e}`;
		console.log(`FAIL ${T}: ${title}: ${why}`);
		for (const t of transcript) {
			console.log(`    request:  ${show(t.request)}`);
			console.log(`    response: ${show(t.response)}`);
		}
		if (!(e instanceof CheckError) && e?.stack) console.log(`    ${e.stack.split("\n").slice(1, 4).join("\n    ")}`);
		return false;
	}
}

// waitUntil polls fn until it returns a truthy value, or gives up after
// ms and returns undefined.
async function waitUntil(fn, ms, every = 50) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() >= end) return undefined;
		await sleep(every);
	}
}

// ---------------------------------------------------------------- processes

function readProc(pid, file) {
	try {
		return fs.readFileSync(`/proc/${pid}/${file}`);
	} catch {
		return null;
	}
}

function cmdline(pid) {
	const b = readProc(pid, "cmdline");
	return b ? b.toString().replace(/\0+$/, "").replaceAll("\0", " ") : "?";
}

function hasRunEnv(pid) {
	const b = readProc(pid, "environ");
	return b ? b.toString().split("\0").includes(RUN_ENV) : false;
}

// fixtureProcesses: the live processes of this run's fixture commands,
// found with pgrep -f on the marker.
function fixtureProcesses() {
	const r = spawnSync("pgrep", ["-f", MARKER], { encoding: "utf8" });
	if (r.error) throw r.error;
	return r.stdout.split("\n").filter(Boolean).map(Number)
		.filter((pid) => hasRunEnv(pid))
		.map((pid) => `${pid}: ${cmdline(pid)}`);
}

// runProcesses: every live process that inherited this run's environment
// (npm, sleep and the server's watchdog too), except the pids given.
function runProcesses(except = []) {
	const out = [];
	for (const d of fs.readdirSync("/proc")) {
		if (!/^\d+$/.test(d) || except.includes(Number(d))) continue;
		if (hasRunEnv(d)) out.push(`${d}: ${cmdline(d)}`);
	}
	return out;
}

// ---------------------------------------------------------------- client

let client;
let transport;
let serverChild; // the HTTP server this script started
let serverExit; // promise of {code, signal}
let serverStderr = ""; // the server's stderr (it logs to SERVER_LOG)
const notes = { log: [], updated: [], errors: [], closing: false };
const raw = { toolsList: null };

async function call(name, args = {}) {
	const request = { method: "tools/call", params: { name, arguments: args } };
	const entry = { request };
	transcript.push(entry);
	try {
		entry.response = await client.callTool({ name, arguments: args });
	} catch (e) {
		entry.response = { thrown: String(e) };
		throw e;
	}
	return entry.response;
}

async function rpc(method, fn) {
	const entry = { request: { method } };
	transcript.push(entry);
	try {
		entry.response = await fn();
	} catch (e) {
		entry.response = { thrown: String(e) };
		throw e;
	}
	return entry.response;
}

const text = (res) => (res.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
const sc = (res) => res.structuredContent ?? {};

function okResult(res, what) {
	expect(!res.isError, `${what} returned isError: ${text(res)}`);
	expect(res.structuredContent, `${what} has no structuredContent`);
}

function byName(list) {
	return Object.fromEntries((sc(list).processes ?? []).map((p) => [p.name, p]));
}

async function startHTTPServer() {
	fs.writeFileSync(SERVER_LOG, "");
	serverChild = spawn(SERVER, ["--no-stdio", "--http", "127.0.0.1:0", "--cwd", PROJECT, "--log-file", SERVER_LOG], {
		env: { ...process.env, BRUMMER_E2E_RUN: RUN_ID },
		stdio: ["ignore", "ignore", "pipe"],
	});
	fs.writeFileSync(path.join(WORK, "server.pid"), `${serverChild.pid}\n`);
	serverChild.stderr.on("data", (d) => (serverStderr = (serverStderr + d).slice(-20000)));
	serverExit = new Promise((resolve) => serverChild.on("exit", (code, signal) => resolve({ code, signal })));
	let exited = null;
	serverExit.then((e) => (exited = e));
	const addr = await waitUntil(() => {
		if (exited) return "exited";
		for (const line of fs.readFileSync(SERVER_LOG, "utf8").split("\n")) {
			try {
				const j = JSON.parse(line);
				if (typeof j.message === "string" && j.message.startsWith("serving MCP over HTTP") && j.addr) return j.addr;
			} catch {}
		}
		return undefined;
	}, 10000);
	expect(addr && addr !== "exited", `the server did not log its HTTP address within 10 s (exit: ${show(exited)}, stderr: ${serverStderr})`);
	return addr;
}

async function connect() {
	client = new Client({ name: "brummer-e2e-ts", version: "1.0.0" });
	// Closing aborts the HTTP transport's streams, which it reports as
	// errors of its own: those are not the server's.
	client.onerror = (e) => {
		if (!(notes.closing && /AbortError|aborted/.test(String(e)))) notes.errors.push(String(e));
	};
	client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => notes.log.push({ at: Date.now(), params: n.params }));
	client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => notes.updated.push({ at: Date.now(), uri: n.params.uri }));
	let where;
	if (T === "stdio") {
		transport = new StdioClientTransport({
			command: SERVER,
			args: ["--cwd", PROJECT, "--log-file", SERVER_LOG],
			env: { BRUMMER_E2E_RUN: RUN_ID, CI: "true" },
			stderr: "pipe",
		});
		where = `${SERVER} --cwd ${PROJECT}`;
	} else {
		const addr = await startHTTPServer();
		transport = new StreamableHTTPClientTransport(new URL(`http://${addr}/mcp`));
		where = `http://${addr}/mcp`;
	}
	// The client tells the transport the version initialize agreed on.
	let protocol = "?";
	const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
	transport.setProtocolVersion = (v) => {
		protocol = v;
		setProtocolVersion?.(v);
	};
	if (T === "stdio") transport.stderr.on("data", (d) => (serverStderr = (serverStderr + d).slice(-20000)));
	await client.connect(transport);
	if (T === "stdio") fs.writeFileSync(path.join(WORK, "server.pid"), `${transport.pid}\n`);
	// Keep the raw tools/list result to measure what goes over the wire.
	const onmessage = transport.onmessage;
	transport.onmessage = (msg, extra) => {
		if (msg?.result?.tools) raw.toolsList = msg.result;
		onmessage?.(msg, extra);
	};
	const v = client.getServerVersion();
	return `${where}; server ${v?.name} ${v?.version}, protocol ${protocol}`;
}

// ---------------------------------------------------------------- the run

async function main() {
	const t0 = Date.now();
	if (!(await check("connect and initialize", connect))) return;

	await check("logging/setLevel info and resources/subscribe brummer://processes", async () => {
		await rpc("logging/setLevel", () => client.setLoggingLevel("info"));
		await rpc("resources/subscribe", () => client.subscribeResource({ uri: "brummer://processes" }));
	});

	await check(`tools/list has the ${EXPECTED_TOOLS.length} tools, compact JSON under ${TOOLS_LIST_MAX_BYTES} bytes`, async () => {
		const res = await rpc("tools/list", () => client.listTools());
		const names = res.tools.map((t) => t.name).sort();
		expect(JSON.stringify(names) === JSON.stringify(EXPECTED_TOOLS), `tools ${names.join(", ")}; expected ${EXPECTED_TOOLS.join(", ")}`);
		expect(!res.nextCursor, `a second page: nextCursor ${res.nextCursor}`);
		const bytes = Buffer.byteLength(JSON.stringify(raw.toolsList ?? res));
		expect(bytes < TOOLS_LIST_MAX_BYTES, `${bytes} bytes`);
		for (const t of res.tools) expect(t.outputSchema, `${t.name} has no outputSchema`);
		return `${bytes} bytes`;
	});

	await check("process_list on the fresh project: package.json scripts and brummer.json processes, idle, with source", async () => {
		const res = await call("process_list");
		okResult(res, "process_list");
		const want = {
			dev: ["package.json", "npm run dev"], build: ["package.json", "npm run build"], lint: ["package.json", "npm run lint"],
			db: ["brummer.json"], api: ["brummer.json"], web: ["brummer.json"],
		};
		const got = byName(res);
		expect(Object.keys(got).sort().join() === Object.keys(want).sort().join(), `names ${Object.keys(got).join(", ")}`);
		for (const [name, [source, command]] of Object.entries(want)) {
			const p = got[name];
			expect(p.status === "idle", `${name}: status ${p.status}, want idle`);
			expect(p.source === source, `${name}: source ${p.source}, want ${source}`);
			if (command) expect(p.command === command, `${name}: command ${p.command}, want ${command} (package-lock.json: npm)`);
			else expect(p.command.includes(MARKER), `${name}: command ${p.command}`);
		}
		expect(sc(res).total === 6, `total ${sc(res).total}, want 6`);
		expect(sc(res).cwd === PROJECT, `cwd ${sc(res).cwd}, want ${PROJECT}`);
		expect(/\bdev idle \(package\.json\) npm run dev/.test(text(res)) && /\bdb idle \(brummer\.json\)/.test(text(res)), `text: ${text(res)}`);
	});

	await check('process_start {"script":"web"} starts db, then api, then web, each after the one before is ready', async () => {
		const res = await call("process_start", { script: "web" });
		okResult(res, "process_start");
		const s = sc(res);
		expect(s.name === "web" && s.status === "running", `record: name ${s.name}, status ${s.status}`);
		expect(s.wait?.outcome === "ready", `wait.outcome ${s.wait?.outcome}, want ready`);
		expect(text(res).includes("started first, as it depends on them: db, api"), `text does not name the dependencies in order: ${text(res)}`);
		expect(/web is ready after \d+ ms/.test(text(res)), `text does not say web is ready: ${text(res)}`);
		// The order the server read the lines in: each start after the
		// previous process's ready line.
		const logs = await call("process_logs", { cursor: "c1:" });
		okResult(logs, "process_logs");
		const l = sc(logs);
		const seq = l.lines.map((line, i) => `${l.names[l.proc[i]]}|${line}`);
		const at = (name, re) => seq.findIndex((x) => x.startsWith(`${name}|`) && re.test(x.slice(name.length + 1)));
		const order = [
			["db", /^\[run 1\] started:/], ["db", /^db: ready/],
			["api", /^\[run 1\] started:/], ["api", /^api: listening on/],
			["web", /^\[run 1\] started:/], ["web", /^web: ready/],
		].map(([n, re]) => [`${n} ${re.source}`, at(n, re)]);
		for (let i = 0; i < order.length; i++) {
			expect(order[i][1] >= 0, `no line ${order[i][0]} in the merged log`);
			if (i > 0) expect(order[i][1] > order[i - 1][1], `${order[i][0]} (#${order[i][1]}) before ${order[i - 1][0]} (#${order[i - 1][1]})`);
		}
	});

	await check("process_list shows db, api, web running; api's urls has 0.0.0.0 as localhost", async () => {
		const t = Date.now();
		let res;
		// URLs are found by the server's analyzer, which runs at most every
		// 250 ms after output: poll for a while.
		const got = await waitUntil(async () => {
			res = await call("process_list");
			okResult(res, "process_list");
			const p = byName(res);
			return p.api?.urls?.includes(API_URL) ? p : undefined;
		}, 3000, 100);
		const p = got ?? byName(res);
		for (const n of ["db", "api", "web"]) expect(p[n]?.status === "running" && p[n].pid > 0, `${n}: status ${p[n]?.status}, pid ${p[n]?.pid}`);
		expect(got, `api's urls is ${show(p.api?.urls)} after 3 s; want it to include ${API_URL}`);
		expect(!p.api.urls.some((u) => u.includes("0.0.0.0")), `urls ${show(p.api.urls)} keep 0.0.0.0`);
		const line = text(res).split("\n").find((x) => x.startsWith("api "));
		expect(line?.includes(API_URL), `process_list text's api line lacks the URL: ${line}`);
		return `${Date.now() - t} ms until urls was there`;
	});

	await check('process_start {"script":"build","wait_for":{"exit":true}} (npm run build) is ready with exit_code 0', async () => {
		const res = await call("process_start", { script: "build", wait_for: { exit: true } });
		okResult(res, "process_start");
		const s = sc(res);
		expect(s.wait?.outcome === "ready", `wait.outcome ${s.wait?.outcome}, want ready`);
		expect(s.exit_code === 0 && s.status === "exited", `exit_code ${s.exit_code}, status ${s.status}`);
		expect(s.command === "npm run build", `command ${s.command}`);
		return `${s.wait.elapsed_ms} ms`;
	});

	let cursor;
	await check("process_logs without name: merged lines with names/proc and a next_cursor", async () => {
		const res = await call("process_logs");
		okResult(res, "process_logs");
		const l = sc(res);
		expect(Array.isArray(l.names) && Array.isArray(l.proc) && Array.isArray(l.lines), `names/proc/lines missing`);
		expect(l.proc.length === l.lines.length, `${l.proc.length} proc entries for ${l.lines.length} lines`);
		expect(l.proc.every((i) => Number.isInteger(i) && i >= 0 && i < l.names.length), `proc indexes out of names' range`);
		const seen = new Set(l.proc.map((i) => l.names[i]));
		for (const n of ["db", "api", "web", "build"]) expect(seen.has(n), `no line of ${n}; processes in the page: ${[...seen].join(", ")}`);
		expect(typeof l.next_cursor === "string" && l.next_cursor.startsWith("c1:"), `next_cursor ${l.next_cursor}`);
		expect(l.lines.includes("build: done"), `no "build: done" line`);
		cursor = l.next_cursor;
		return `${l.lines.length} lines of ${l.names.join(", ")}; next_cursor ${cursor}`;
	});

	await check("process_logs with that cursor returns only the lines printed since", async () => {
		expect(cursor, "no cursor from the check before");
		const word = `ping-${randomBytes(3).toString("hex")}`;
		okResult(await call("process_input", { name: "api", text: word }), "process_input");
		let res;
		const got = await waitUntil(async () => {
			res = await call("process_logs", { cursor });
			okResult(res, "process_logs");
			return sc(res).lines?.length > 0 ? sc(res) : undefined;
		}, 3000, 100);
		expect(got, `no new line within 3 s`);
		const lines = got.lines.map((x, i) => `${got.names[got.proc[i]]}|${x}`);
		expect(JSON.stringify(lines) === JSON.stringify([`api|api: got ${word}`]), `lines ${show(lines)}, want only api's "api: got ${word}"`);
		const again = await call("process_logs", { cursor: got.next_cursor });
		okResult(again, "process_logs");
		expect((sc(again).lines ?? []).length === 0, `the next cursor returns old lines again: ${show(sc(again).lines)}`);
	});

	await check("a process that dies on its own: a warning notifications/message and resources/updated for brummer://processes", async () => {
		// Let the updates owed for earlier changes go out first (they come
		// at most every 250 ms), so that the one awaited is the crash's.
		await waitUntil(() => Date.now() - (notes.updated.at(-1)?.at ?? 0) > 600, 5000);
		const before = Date.now();
		okResult(await call("process_input", { name: "api", text: "crash" }), "process_input");
		const msg = await waitUntil(() => notes.log.find((n) => n.at >= before && n.params.data?.name === "api"), 5000);
		expect(msg, `no notifications/message about api within 5 s; messages so far: ${show(notes.log.map((n) => n.params))}`);
		const p = msg.params;
		expect(p.level === "warning" && p.logger === "brummer", `level ${p.level}, logger ${p.logger}; want warning, brummer`);
		expect(p.data.exit_code === 2 || p.data.signal, `data has neither exit_code 2 nor signal: ${show(p.data)}`);
		expect(typeof p.data.last_error === "string" && p.data.last_error.includes(PANIC), `last_error ${show(p.data.last_error)}, want the panic line`);
		const upd = await waitUntil(() => notes.updated.find((n) => n.at >= before && n.uri === "brummer://processes"), 3000);
		expect(upd, `no notifications/resources/updated for brummer://processes within 3 s of the crash; got ${show(notes.updated)}`);
		const procs = await rpc("resources/read brummer://processes", () => client.readResource({ uri: "brummer://processes" }));
		const api = JSON.parse(procs.contents?.[0]?.text ?? "{}").processes?.find((x) => x.name === "api");
		expect(api?.status === "exited" && api.exit_code === 2, `brummer://processes after the update: api ${show(api)}`);
		return `message after ${msg.at - before} ms: ${show(p.data)}; updated after ${upd.at - before} ms`;
	});

	await check("process_list shows api exited with exit_code 2 and its last_error", async () => {
		const res = await call("process_list");
		okResult(res, "process_list");
		const api = byName(res).api;
		expect(api?.status === "exited" && api.exit_code === 2, `api: status ${api?.status}, exit_code ${api?.exit_code}`);
		expect(api.last_error?.text?.includes(PANIC), `api.last_error ${show(api.last_error)}`);
	});

	await check('process_logs {"errors":true,"last":"2m"} finds the api\'s panic line', async () => {
		const res = await call("process_logs", { errors: true, last: "2m" });
		okResult(res, "process_logs");
		const l = sc(res);
		const lines = l.lines.map((x, i) => `${l.names[l.proc[i]]}|${x}`);
		expect(lines.includes(`api|${PANIC}`), `lines ${show(lines)}`);
		expect(!lines.some((x) => /listening on|db: ready|build: done/.test(x)), `lines that are no errors: ${show(lines)}`);
		const i = lines.indexOf(`api|${PANIC}`);
		expect((l.stderr ?? []).includes(i), `the panic line is not flagged stderr`);
	});

	await check("resources/list has brummer://processes and the logs URIs; resources/read of a logs URI returns text", async () => {
		const res = await rpc("resources/list", () => client.listResources());
		const uris = res.resources.map((r) => r.uri);
		for (const u of ["brummer://processes", ...["db", "api", "web", "build"].map((n) => `brummer://processes/${n}/logs`)]) {
			expect(uris.includes(u), `no ${u} in ${uris.join(", ")}`);
		}
		const read = await rpc("resources/read brummer://processes/api/logs", () => client.readResource({ uri: "brummer://processes/api/logs" }));
		const c = read.contents?.[0];
		expect(typeof c?.text === "string" && c.text.includes("api: listening on") && c.text.includes(PANIC), `contents ${show(read.contents)}`);
		const procs = await rpc("resources/read brummer://processes", () => client.readResource({ uri: "brummer://processes" }));
		const j = JSON.parse(procs.contents?.[0]?.text ?? "null");
		expect(j?.processes?.some((p) => p.name === "web" && p.status === "running"), `brummer://processes: ${show(procs.contents)}`);
		return `${uris.length} resources`;
	});

	await check('process_stop {"all":true} stops every live process; none of the fixture\'s is left', async () => {
		const live = fixtureProcesses();
		expect(live.length >= 2, `pgrep -f ${MARKER} finds ${live.length} processes of this run before the stop (want db's and web's): the check would prove nothing`);
		const res = await call("process_stop", { all: true });
		okResult(res, "process_stop");
		const stopped = (sc(res).stopped ?? []).map((p) => p.name).sort();
		expect(stopped.join() === "db,web", `stopped ${stopped.join(", ")}; want db, web`);
		const running = await call("process_list", { status: "running" });
		expect((sc(running).processes ?? []).length === 0, `still running: ${show(sc(running).processes)}`);
		const left = await waitUntil(() => fixtureProcesses().length === 0, 2000) ? [] : fixtureProcesses();
		expect(left.length === 0, `left running:\n      ${left.join("\n      ")}`);
		return `${live.length} fixture processes before`;
	});

	await check("shutdown stops what runs and leaves no process behind", async () => {
		// Something to stop: db (a shell loop) and dev (npm, its shell, sleep).
		// (^: npm prints the script's text before it runs it.)
		okResult(await call("process_start", { script: "db", wait_for: { log: "^db: ready" } }), "process_start db");
		okResult(await call("process_start", { script: "dev", wait_for: { log: "^dev: serving" } }), "process_start dev");
		const before = runProcesses();
		const fixture = fixtureProcesses();
		expect(fixture.length >= 2, `pgrep -f ${MARKER} finds ${fixture.length} processes of this run before shutdown (want db's and dev's): the check would prove nothing`);
		const t = Date.now();
		notes.closing = true;
		let how;
		if (T === "stdio") {
			const pid = transport.pid;
			await client.close(); // ends stdin; SIGTERM after 2 s, SIGKILL 2 s later
			const ms = Date.now() - t;
			expect(ms < 2000, `the server took ${ms} ms to exit after stdin EOF: the SDK had to signal it`);
			expect(!fs.existsSync(`/proc/${pid}`) || /\) Z /.test(readProc(pid, "stat")?.toString() ?? ""), `server pid ${pid} still there`);
			how = `stdin EOF, server gone after ${ms} ms`;
		} else {
			await rpc("DELETE session", () => transport.terminateSession());
			await client.close();
			serverChild.kill("SIGTERM");
			const exit = await Promise.race([serverExit, sleep(15000).then(() => null)]);
			expect(exit, "the server did not exit within 15 s of SIGTERM");
			expect(exit.code === 0, `server exit ${show(exit)}, want code 0`);
			how = `SIGTERM, server exit 0 after ${Date.now() - t} ms`;
		}
		const leftFixture = fixtureProcesses();
		expect(leftFixture.length === 0, `pgrep -f ${MARKER} finds processes left running:\n      ${leftFixture.join("\n      ")}`);
		// Everything that inherited the run's environment (npm, sleep, the
		// watchdog), allowing a moment for the watchdog to see its parent go.
		const gone = await waitUntil(() => runProcesses().length === 0, 3000);
		const left = runProcesses();
		expect(gone, `processes of this run left:\n      ${left.join("\n      ")}`);
		return `${how}; ${before.length} processes of the run before, 0 after`;
	});

	await check("no protocol errors in the client", async () => {
		expect(notes.errors.length === 0, notes.errors.join("; "));
		return `${notes.log.length} log messages, ${notes.updated.length} resources/updated; ${Date.now() - t0} ms in all`;
	});
}

function showServerLog() {
	try {
		const log = fs.readFileSync(SERVER_LOG, "utf8").trimEnd().split("\n");
		console.log(`---- server log, last ${Math.min(40, log.length)} of ${log.length} lines (${SERVER_LOG}) ----`);
		console.log(log.slice(-40).join("\n"));
		console.log("---- end of server log ----");
	} catch {}
	if (serverStderr.trim()) console.log(`---- server stderr ----\n${serverStderr.trimEnd()}\n---- end of server stderr ----`);
}

// killServer asks a server still running to shut down (it stops its
// processes); scripts/e2e-ts.sh makes sure it is gone. A stdio server
// also sees its stdin close when this script exits.
function killServer() {
	try {
		if (serverChild && serverChild.exitCode === null) serverChild.kill("SIGTERM");
	} catch {}
	try {
		transport?.close();
	} catch {}
}

const deadline = setTimeout(() => {
	console.log(`FAIL ${T}: the run did not finish within ${opt.timeout} s`);
	showServerLog();
	killServer();
	process.exit(1);
}, Number(opt.timeout) * 1000);
for (const sig of ["SIGINT", "SIGTERM"]) {
	process.on(sig, () => {
		killServer();
		process.exit(1);
	});
}

try {
	await main();
} catch (e) {
	failures++;
	console.log(`FAIL ${T}: ${e?.stack ?? e}`);
}
clearTimeout(deadline);
if (failures > 0) {
	showServerLog();
	killServer();
	console.log(`e2e ${T}: ${failures} check(s) failed`);
	process.exit(1);
}
console.log(`e2e ${T}: all checks passed`);
process.exit(0);
