// Compiles contracts/src with the pinned solcjs (standard JSON) and writes one artifact per deployable
// contract: ABI, creation and runtime bytecode, compiler version and settings. Output is a pure
// function of the sources and package-lock, so tests/chain can recompile and compare byte for byte.
//
//   node compile.mjs [outDir]      (default: ./artifacts)

import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync, rmSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");

const root = dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? join(root, "artifacts");

// Library contracts compiled for their artifacts alone (deploying the factory needs a proxy).
const EXTRA_SOURCES = ["@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol"];

const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  viaIR: false,
  metadata: { bytecodeHash: "ipfs" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function solidityFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return solidityFiles(path);
      return entry.name.endsWith(".sol") ? [path] : [];
    })
    .sort();
}

function sourceUnitName(path) {
  return relative(root, path).split(sep).join("/");
}

function findImport(path) {
  const candidate = join(root, "node_modules", path);
  if (existsSync(candidate)) return { contents: readFileSync(candidate, "utf8") };
  return { error: `import not found: ${path} (run npm ci in contracts/)` };
}

const ownSources = solidityFiles(join(root, "src")).map(sourceUnitName);
const sources = {};
for (const name of ownSources) sources[name] = { content: readFileSync(join(root, name), "utf8") };
for (const name of EXTRA_SOURCES) sources[name] = { content: findImport(name).contents };

const input = { language: "Solidity", sources, settings: SETTINGS };
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));

const diagnostics = output.errors ?? [];
const errors = diagnostics.filter((e) => e.severity === "error");
// Warnings inside the pinned libraries are theirs (e.g. solc's note on OZ's transient reentrancy guard).
const ours = (e) => e.severity === "error" || (e.sourceLocation?.file ?? "src/").startsWith("src/");
for (const diagnostic of diagnostics.filter(ours)) console.error(diagnostic.formattedMessage);
if (errors.length > 0) process.exit(1);

mkdirSync(outDir, { recursive: true });
const written = [];
for (const sourceName of [...ownSources, ...EXTRA_SOURCES]) {
  for (const [contractName, contract] of Object.entries(output.contracts[sourceName] ?? {})) {
    // Interfaces, abstract contracts and internal-only libraries have nothing to deploy or call.
    const callable = contract.abi.some((entry) => entry.type !== "error" && entry.type !== "event");
    if (!contract.evm.bytecode.object || !callable) continue;
    const artifact = {
      contractName,
      sourceName,
      abi: contract.abi,
      bytecode: "0x" + contract.evm.bytecode.object,
      deployedBytecode: "0x" + contract.evm.deployedBytecode.object,
      compiler: { name: "solc", version: solc.version(), settings: { ...SETTINGS, outputSelection: undefined } },
    };
    writeFileSync(join(outDir, `${contractName}.json`), JSON.stringify(artifact, null, 2) + "\n");
    written.push(contractName);
  }
}
// Artifacts of contracts that no longer exist must not linger.
for (const file of readdirSync(outDir)) {
  if (file.endsWith(".json") && !written.includes(file.slice(0, -5))) rmSync(join(outDir, file));
}
console.log(`solc ${solc.version()}: wrote ${written.sort().join(", ")} to ${outDir}`);
