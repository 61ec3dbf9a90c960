// Benchmark peer: CID of a file or folder with the JS ipfs-unixfs-importer, Kubo's defaults
// (profile unixfs-v0-2015: 256 KiB chunks, 174 links, CIDv0 or CIDv1 with raw leaves), no blocks
// kept. Prints one JSON line: {"cid": ..., "seconds": ...} (time inside this process only).
// Usage: node bench-importer.mjs PATH [CID_VERSION]
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, join, relative } from 'node:path'
import { importer } from 'ipfs-unixfs-importer'

const [target, version = '0'] = process.argv.slice(2)
const cidVersion = Number(version)
const blackhole = { put: async (cid) => cid }

async function * entries (root) {
  const info = await stat(root)
  if (info.isFile()) {
    yield { path: basename(root), content: createReadStream(root, { highWaterMark: 262144 }) }
    return
  }
  const walk = async function * (dir) {
    const names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort()
    for (const name of names) {
      const full = join(dir, name)
      const s = await stat(full)
      const path = join(basename(root), relative(root, full))
      if (s.isDirectory()) {
        yield { path }
        yield * walk(full)
      } else {
        yield { path, content: createReadStream(full) }
      }
    }
  }
  yield * walk(root)
}

const started = process.hrtime.bigint()
let last
for await (const entry of importer(entries(target), blackhole, {
  profile: 'unixfs-v0-2015',
  cidVersion,
  rawLeaves: cidVersion === 1,
  fileImportConcurrency: 50
})) {
  last = entry
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9
console.log(JSON.stringify({ cid: last.cid.toString(), seconds }))
