// The PRNG of generation.md written directly in JavaScript, whose `| 0` and `>>>` semantics the
// Python port must reproduce. Reads [{hash, calls: [[method, ...args]]}] on stdin, writes results.
const ALPHABET = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

function seedWords(hash) {
  const body = hash.slice(2);
  const size = Math.floor(body.length / 4);
  const words = [];
  if (size > 0) {
    for (let i = 0; i + size <= body.length; i += size) {
      let p = 0;
      for (const c of body.slice(i, i + size)) p = (p * 58 + ALPHABET.indexOf(c)) | 0;
      words.push(p);
    }
  }
  while (words.length < 4) words.push(0);
  return words.slice(0, 4);
}

function makeRandom(hash) {
  let [a, b, c, d] = seedWords(hash);
  const next = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  const float = (lo, hi) => lo + (hi - lo) * next();
  const integer = (lo, hi) => Math.floor(float(lo, hi + 1));
  return {
    next,
    float,
    integer,
    pick: (xs) => xs[integer(0, xs.length - 1)],
    weighted_pick: (xs, ws) => {
      const r = float(0, ws.reduce((s, w) => s + w, 0));
      let acc = 0;
      let i = 0;
      while (i < ws.length && acc + ws[i] < r) { acc += ws[i]; i++; }
      return xs[Math.min(xs.length - 1, i)];
    },
  };
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const out = JSON.parse(input).map(({ hash, calls }) => {
    const random = makeRandom(hash);
    return calls.map(([method, ...args]) => random[method](...args));
  });
  process.stdout.write(JSON.stringify(out));
});
