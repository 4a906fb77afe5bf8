#!/usr/bin/python3
"""Trains the small model attn-trace ships: lessons/models/tiny/.

Run by hand, with Debian's PyTorch (python3-torch), on the CPU, one thread:

    /usr/bin/python3 tests/train_tiny.py            # train, write the model and the fixtures
    /usr/bin/python3 tests/train_tiny.py --heads    # only print the head scores of the written model
    /usr/bin/python3 tests/train_tiny.py --fixtures # only write the fixtures of the written model
    /usr/bin/python3 tests/train_tiny.py --lesson-facts # only the numbers of trained-heads.lesson

Everything comes from SEED below; nothing is downloaded.

The training text is made here, by the functions below, from SEED. Three
kinds of segment, drawn at random:
  * (30%) sentences of a small English-like grammar (determiner,
    adjective, noun, verb, preposition, ...) over the word lists below;
  * (30%) "echoes": 3 to 8 pairs of random words, each pair followed by
    its first word again ("lamp river lamp stone cat stone"). After the
    second word of a pair the next word is the one just before it, so the
    model gains from a head that looks at the previous token and carries
    it forward: that is what teaches a previous-token head;
  * (40%) a run of 6 to 20 words picked uniformly from the same lists,
    written twice ("lamp river sings. lamp river sings."), so that the
    only way to predict the second run is to find the earlier copy of the
    current word and read the word after it: that is what teaches an
    induction head (it reads the previous-token head's output).
The tokenizer learns from BPE_SEGMENTS segments of that text. Training
makes its windows as it goes: each row of a batch is segments (as token
ids) joined until they fill N_POSITIONS + 1 tokens, cut at a random place.
The vocabulary (512 tokens) is large enough that every word of the lists
is one token, so a repeated word is a repeated token.

The tokenizer is a byte-level BPE in GPT-2's format: the same byte to
character map, the same pre-split (restricted to ASCII, which is all this
text contains: letters [A-Za-z], digits [0-9]), and the same merge rule
(lowest rank first, every occurrence left to right). It is trained on the
text by counting pairs inside words and merging the most frequent pair
(ties: the smaller pair as text) until the vocabulary has VOCAB tokens.
vocab.json lists the 256 byte characters first, in GPT-2's order, then
each merge's token.

The model is GPT-2's architecture (the names and layouts of Hugging
Face's GPT-2 files: Conv1D weights as x.W, tied wte, tanh GELU), trained
with AdamW (a warm-up of WARMUP steps, then a constant rate) on next-token
prediction over windows of N_POSITIONS tokens.

It writes lessons/models/tiny/{model.safetensors (F32), config.json,
vocab.json, merges.txt}, then tests/fixtures/tiny/: the tokenizer's ids of
held-out text (bpe_ids.txt) and, for a few held-out sentences, every stage
of every layer as PyTorch computes it from the written weights
(SENTENCE/ref/*.npy, by tests/make_gpt2_fixtures.py's reference()).
It also writes lessons/models/tiny-untrained/: the same model at its
initial weights (seed 19, before the first step), with the same tokenizer,
so that a lesson can put a trained head beside an untrained one.
It prints each head's previous-token and induction scores.

Speed and reproducibility: PyTorch's float results depend on the BLAS it
runs on. The committed weights were trained with one thread on OpenBLAS
(Debian's libopenblas0-pthread; about 0.05 s a step on a quiet machine,
against 0.4 s on the reference BLAS): run it as

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 tests/train_tiny.py

On the same processor, BLAS and thread count the script writes the same
bytes. Elsewhere the last bits of the floats differ from the first step
on (OpenBLAS picks its kernels by processor), so the weights differ from
the committed ones; a rerun on another processor (docs/models.md) still
grew the same two heads. What to check after a run is the head table the
script prints and make check's head tests, which read the fixtures the
same run wrote.
"""

import json
import os
import random
import re
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL_DIR = os.path.join(ROOT, "lessons", "models", "tiny")
UNTRAINED_DIR = os.path.join(ROOT, "lessons", "models", "tiny-untrained")
FIXTURE_DIR = os.path.join(HERE, "fixtures", "tiny")
sys.path.insert(0, HERE)

SEED = 19
VOCAB = 512
N_EMBD, N_HEAD, N_LAYER, N_POSITIONS = 64, 4, 2, 64
STEPS, BATCH, LR, WARMUP = 6000, 32, 2e-3, 100
BPE_SEGMENTS = 4000
SENTENCE_SHARE, ECHO_SHARE = 0.3, 0.3
# The weights start at 3 times GPT-2's 0.02 (0.06, about 1/2 of 1/sqrt(d)):
# at 0.02 every score starts near 0 and the heads sat uniform for thousands
# of steps in the runs docs/architecture.md records.
INIT_STD = 0.06
WPE_AMPLITUDE = 0.1
EPS = 1e-5

# ---------------------------------------------------------------------------
# The text

DETERMINERS = ["the", "a", "one", "my", "your", "every", "this", "that"]
ADJECTIVES = ["red", "small", "old", "quiet", "green", "tall", "warm", "bright", "slow", "happy",
              "cold", "round", "brave", "dark", "soft", "young"]
NOUNS = ["cat", "dog", "bird", "river", "lamp", "tree", "child", "farmer", "boat", "garden", "window",
         "teacher", "song", "stone", "horse", "city", "door", "apple", "letter", "cloud", "train",
         "friend", "book", "mountain", "king", "fish", "road", "house", "candle", "pilot"]
VERBS_T = ["sees", "likes", "follows", "paints", "finds", "carries", "watches", "helps", "builds",
           "remembers", "opens", "reads"]
VERBS_I = ["sleeps", "sings", "waits", "runs", "falls", "shines", "laughs", "rests"]
PREPOSITIONS = ["near", "under", "behind", "beside", "above", "inside"]
ADVERBS = ["slowly", "often", "today", "again", "quietly", "never"]
CONNECTIVES = ["and", "but", "because", "while"]
WORDS = sorted(set(DETERMINERS + ADJECTIVES + NOUNS + VERBS_T + VERBS_I + PREPOSITIONS + ADVERBS))


def noun_phrase(rng):
    words = [rng.choice(DETERMINERS)]
    if rng.random() < 0.5:
        words.append(rng.choice(ADJECTIVES))
    words.append(rng.choice(NOUNS))
    if rng.random() < 0.2:
        words += [rng.choice(PREPOSITIONS)] + noun_phrase(rng)
    return words


def clause(rng):
    words = noun_phrase(rng)
    if rng.random() < 0.5:
        words += [rng.choice(VERBS_T)] + noun_phrase(rng)
    else:
        words.append(rng.choice(VERBS_I))
        if rng.random() < 0.4:
            words += [rng.choice(PREPOSITIONS)] + noun_phrase(rng)
    if rng.random() < 0.3:
        words.append(rng.choice(ADVERBS))
    return words


def sentence(rng):
    words = clause(rng)
    if rng.random() < 0.25:
        words += [rng.choice(CONNECTIVES)] + clause(rng)
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def repeated_run(rng):
    run = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 20)))
    return run + ". " + run + "."


def echoes(rng):
    words = []
    for _ in range(rng.randint(3, 8)):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        words += [a, b, a]
    return " ".join(words) + "."


def segment(rng):
    u = rng.random()
    if u < SENTENCE_SHARE:
        return sentence(rng)
    return echoes(rng) if u < SENTENCE_SHARE + ECHO_SHARE else repeated_run(rng)


# ---------------------------------------------------------------------------
# The tokenizer: GPT-2's byte-level BPE

# GPT-2's pattern with \p{L} and \p{N} as their ASCII parts (the text is ASCII)
SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's map from each byte to a printable character, in GPT-2's order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return list(zip(bs, [chr(c) for c in cs]))


BYTE_CHARS = bytes_to_unicode()
BYTE_TO_CHAR = dict(BYTE_CHARS)


def words_of(text):
    """The pre-split words of text, each as its byte-level characters."""
    return ["".join(BYTE_TO_CHAR[b] for b in w.encode("utf-8")) for w in SPLIT.findall(text)]


def train_bpe(texts, vocab_size):
    """Merges (pairs in order) learnt from texts until vocab_size tokens."""
    counts = {}
    for t in texts:
        for w in words_of(t):
            counts[w] = counts.get(w, 0) + 1
    pieces = {w: list(w) for w in counts}
    merges = []
    while 256 + len(merges) < vocab_size:
        pairs = {}
        for w, c in counts.items():
            p = pieces[w]
            for a, b in zip(p, p[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = min(pairs, key=lambda ab: (-pairs[ab], ab))
        merges.append(best)
        for w in counts:
            p = pieces[w]
            out, i = [], 0
            while i < len(p):
                if i + 1 < len(p) and (p[i], p[i + 1]) == best:
                    out.append(p[i] + p[i + 1])
                    i += 2
                else:
                    out.append(p[i])
                    i += 1
            pieces[w] = out
    return merges


class Encoder:
    """GPT-2's encoding algorithm over a vocabulary and ranked merges."""

    def __init__(self, merges):
        self.ranks = {pair: r for r, pair in enumerate(merges)}
        self.vocab = {c: i for i, (_, c) in enumerate(BYTE_CHARS)}
        for a, b in merges:
            self.vocab[a + b] = len(self.vocab)
        self.cache = {}

    def word(self, w):
        if w in self.cache:
            return self.cache[w]
        p = list(w)
        while len(p) > 1:
            ranked = [(self.ranks.get((a, b), 1 << 30), a, b) for a, b in zip(p, p[1:])]
            rank, a, b = min(ranked)
            if rank == 1 << 30:
                break
            out, i = [], 0
            while i < len(p):
                if i + 1 < len(p) and p[i] == a and p[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(p[i])
                    i += 1
            p = out
        ids = [self.vocab[x] for x in p]
        self.cache[w] = ids
        return ids

    def encode(self, text):
        return [i for w in words_of(text) for i in self.word(w)]


# ---------------------------------------------------------------------------
# The model: GPT-2's block, written with the checkpoint's own names

def init_weights(torch, gen):
    """name -> trainable tensor, GPT-2's names and shapes, GPT-2's init scale."""
    d = N_EMBD
    w = {}

    def normal(*shape, std=INIT_STD):
        return (torch.randn(*shape, generator=gen) * std).requires_grad_()

    w["wte.weight"] = normal(VOCAB, d, std=0.02)
    # sines and cosines of the position (as in "Attention is all you need"),
    # a little larger than the token embeddings: a start from which
    # attending to the previous position is one linear map away
    pos = torch.arange(N_POSITIONS, dtype=torch.float32)[:, None]
    freq = torch.exp(-torch.arange(0, d, 2, dtype=torch.float32) / d * 9.2103)   # 1 to 1/10000
    wpe = torch.zeros(N_POSITIONS, d)
    wpe[:, 0::2] = torch.sin(pos * freq)
    wpe[:, 1::2] = torch.cos(pos * freq)
    w["wpe.weight"] = (WPE_AMPLITUDE * wpe).requires_grad_()
    for l in range(N_LAYER):
        p = "h.%d." % l
        w[p + "ln_1.weight"] = torch.ones(d, requires_grad=True)
        w[p + "ln_1.bias"] = torch.zeros(d, requires_grad=True)
        w[p + "attn.c_attn.weight"] = normal(d, 3 * d)
        w[p + "attn.c_attn.bias"] = torch.zeros(3 * d, requires_grad=True)
        w[p + "attn.c_proj.weight"] = normal(d, d, std=INIT_STD / (2 * N_LAYER) ** 0.5)
        w[p + "attn.c_proj.bias"] = torch.zeros(d, requires_grad=True)
        w[p + "ln_2.weight"] = torch.ones(d, requires_grad=True)
        w[p + "ln_2.bias"] = torch.zeros(d, requires_grad=True)
        w[p + "mlp.c_fc.weight"] = normal(d, 4 * d)
        w[p + "mlp.c_fc.bias"] = torch.zeros(4 * d, requires_grad=True)
        w[p + "mlp.c_proj.weight"] = normal(4 * d, d, std=INIT_STD / (2 * N_LAYER) ** 0.5)
        w[p + "mlp.c_proj.bias"] = torch.zeros(d, requires_grad=True)
    w["ln_f.weight"] = torch.ones(d, requires_grad=True)
    w["ln_f.bias"] = torch.zeros(d, requires_grad=True)
    return w


def forward(torch, w, ids, want_weights=False):
    """Logits [b, s, vocab] for ids [b, s]; with want_weights also each
    layer's attention weights [b, h, s, s]."""
    F = torch.nn.functional
    b, s = ids.shape
    d, h = N_EMBD, N_HEAD
    x = w["wte.weight"][ids] + w["wpe.weight"][:s]
    mask = torch.ones(s, s, dtype=torch.bool).tril()
    maps = []
    for l in range(N_LAYER):
        p = "h.%d." % l
        a = F.layer_norm(x, (d,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], EPS)
        q, k, v = (a @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]).split(d, dim=2)
        q, k, v = (t.reshape(b, s, h, d // h).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / (d // h) ** 0.5
        att = F.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
        maps.append(att)
        y = (att @ v).transpose(1, 2).reshape(b, s, d)
        x = x + y @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        m = F.layer_norm(x, (d,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], EPS)
        m = F.gelu(m @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + m @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (d,), w["ln_f.weight"], w["ln_f.bias"], EPS)
    logits = x @ w["wte.weight"].t()
    return (logits, maps) if want_weights else logits


def word_ids(enc):
    """The token id of each word of the lists (each is one token), sorted."""
    return sorted(set(enc.encode(" " + word)[0] for word in WORDS))


def batch(torch, enc, words, dot, rng):
    """BATCH windows of N_POSITIONS + 1 token ids [BATCH, N_POSITIONS + 1]:
    each a run of segments (the three kinds of the docstring, as token ids)
    cut at a random place."""
    rows = []
    for _ in range(BATCH):
        seq = []
        while len(seq) < N_POSITIONS + 1:
            u = rng.random()
            if u < SENTENCE_SHARE:
                seq += enc.encode(" " + sentence(rng))
            elif u < SENTENCE_SHARE + ECHO_SHARE:
                for _ in range(rng.randint(3, 8)):
                    a, b = rng.choice(words), rng.choice(words)
                    seq += [a, b, a]
            else:
                run = [rng.choice(words) for _ in range(rng.randint(6, 20))]
                seq += run + [dot] + run + [dot]
        start = rng.randint(0, max(0, len(seq) - N_POSITIONS - 1))
        rows.append(seq[start:start + N_POSITIONS + 1])
    return torch.tensor(rows)


def train(torch, enc, progress=None):
    """Trains from SEED on windows made as they are needed; returns the
    trained weights and the initial ones."""
    gen = torch.Generator().manual_seed(SEED)
    w = init_weights(torch, gen)
    untrained = {n: t.detach().numpy().astype(np.float32).copy() for n, t in w.items()}
    decay = [t for n, t in w.items() if t.dim() == 2]
    no_decay = [t for n, t in w.items() if t.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.98))
    words, dot = word_ids(enc), enc.encode(".")[0]
    rng = random.Random(SEED)
    start = time.time()
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = LR * min(1.0, (step + 1) / WARMUP)
        d = batch(torch, enc, words, dot, rng)
        loss = torch.nn.functional.cross_entropy(forward(torch, w, d[:, :-1]).reshape(-1, VOCAB), d[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(w.values()), 1.0)
        opt.step()
        if step % 250 == 0 or step == STEPS - 1:
            print("step %4d  loss %.3f  %.0f s" % (step, loss.item(), time.time() - start), flush=True)
        if progress is not None and step % 500 == 499:
            prev, ind = progress({n: t.detach().numpy() for n, t in w.items()})
            print("  best previous-token head %.3f, best induction head %.3f" % (prev.max(), ind.max()), flush=True)
    return {n: t.detach().numpy().astype(np.float32) for n, t in w.items()}, untrained


# ---------------------------------------------------------------------------
# Head scores

def head_scores(torch, w, enc, rng):
    """(prev, induction) [layer][head]: the mean weight each head puts on
    the previous token over held-out sentences, and on the token after the
    first copy over the second copy of held-out repeated runs."""
    wt = {k: torch.from_numpy(v) for k, v in w.items()}
    prev = np.zeros((N_LAYER, N_HEAD))
    n_prev = 0
    for _ in range(40):
        ids = enc.encode(" ".join(sentence(rng) for _ in range(3)))[:N_POSITIONS]
        _, maps = forward(torch, wt, torch.tensor([ids]), want_weights=True)
        for l in range(N_LAYER):
            a = maps[l][0].detach().numpy()
            prev[l] += [sum(a[hh, i, i - 1] for i in range(1, len(ids))) for hh in range(N_HEAD)]
        n_prev += len(ids) - 1
    prev /= n_prev
    ind = np.zeros((N_LAYER, N_HEAD))
    n_ind = 0
    for _ in range(40):
        words = [rng.choice(WORDS) for _ in range(12)]
        first = enc.encode(" " + " ".join(words) + ".")     # the training form: " w1 ... w12." twice
        assert 2 * len(first) <= N_POSITIONS
        ids = first + first
        n = len(first)
        _, maps = forward(torch, wt, torch.tensor([ids]), want_weights=True)
        for l in range(N_LAYER):
            a = maps[l][0].detach().numpy()
            ind[l] += [sum(a[hh, n + j, j + 1] for j in range(n - 1)) for hh in range(N_HEAD)]
        n_ind += n - 1
    ind /= n_ind
    return prev, ind


# ---------------------------------------------------------------------------
# Writing the model and the fixtures

def read_safetensors_f32(path):
    """name -> float32 array of an F32 .safetensors file (the one written here)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype="<f4").reshape(t["shape"]).astype(np.float32)
    return out


def write_model(w, merges, enc, model_dir=MODEL_DIR):
    import make_gpt2_fixtures as mg
    os.makedirs(model_dir, exist_ok=True)
    mg.write_safetensors(os.path.join(model_dir, "model.safetensors"), w, "F32", "",
                         {"format": "pt", "source": "tests/train_tiny.py", "seed": str(SEED)})
    mg.write_config(os.path.join(model_dir, "config.json"), N_EMBD, N_HEAD, N_LAYER, VOCAB, N_POSITIONS)
    with open(os.path.join(model_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(enc.vocab, f, ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(model_dir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2 (attn-trace tests/train_tiny.py, seed %d)\n" % SEED)
        for a, b in merges:
            f.write("%s %s\n" % (a, b))


HELD_OUT = [
    ("sentence", "The old farmer paints a green boat near the river."),
    ("repeat", "lamp horse quietly stone under city sings. lamp horse quietly stone under city sings."),
    ("mixed", "My teacher reads a letter. cloud pilot brave door. cloud pilot brave door."),
]


def write_fixtures(enc, rng):
    import make_gpt2_fixtures as mg
    w = read_safetensors_f32(os.path.join(MODEL_DIR, "model.safetensors"))
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    texts = [t for _, t in HELD_OUT] + [segment(rng) for _ in range(40)]
    texts += ["Unknown words: zebra, quixotic, 1234 and 'quoted' text!", "  two  spaces\tand\ttabs\n\nnew lines  "]
    with open(os.path.join(FIXTURE_DIR, "bpe_ids.txt"), "w") as f:
        f.write("# ids of held-out text by tests/train_tiny.py's own GPT-2 encoder: do not edit.\n")
        f.write("# Each line: the input bytes in hex, a tab, the ids.\n")
        for t in texts:
            f.write("%s\t%s\n" % (t.encode("utf-8").hex(), " ".join(map(str, enc.encode(t)))))
    for name, text in HELD_OUT:
        ids = enc.encode(text)
        ref_dir = os.path.join(FIXTURE_DIR, name, "ref")
        os.makedirs(ref_dir, exist_ok=True)
        for key, value in mg.reference(w, N_EMBD, N_HEAD, N_LAYER, ids).items():
            arr = np.ascontiguousarray(value)
            arr = arr.astype("<i8") if arr.dtype == np.int64 else arr.astype("<f4")
            np.save(os.path.join(ref_dir, key + ".npy"), arr)
        print("fixture %s: %d tokens" % (name, len(ids)))
    write_head_fixture(w, read_safetensors_f32(os.path.join(UNTRAINED_DIR, "model.safetensors")), enc,
                       random.Random(SEED + 3))
    write_lesson_facts(enc)


def induction_targets(ids):
    """(t, p + 1) for each position t whose token occurs exactly once
    before it, at p, with p + 1 < t: where an induction head at t looks
    (the token after the earlier copy). check_tiny.c has the same rule."""
    out = []
    for t in range(len(ids)):
        earlier = [p for p in range(t) if ids[p] == ids[t]]
        if len(earlier) == 1 and earlier[0] + 1 < t:
            out.append((t, earlier[0] + 1))
    return out


def head_figure(kind, a, ids):
    """The mean weight of one head's map a [s, s] on the previous token
    (kind "prev", over positions 1..s-1) or on the induction targets."""
    pairs = [(i, i - 1) for i in range(1, len(ids))] if kind == "prev" else induction_targets(ids)
    return float(np.mean([a[t, k] for t, k in pairs]))


def head_maps(torch, w, enc, texts):
    """text -> (ids, [layer] attention maps [h, s, s] in float64) under weights w."""
    wt = {k: torch.from_numpy(v) for k, v in w.items()}
    out = {}
    for text in texts:
        ids = enc.encode(text)
        assert len(ids) <= N_POSITIONS, text
        _, m = forward(torch, wt, torch.tensor([ids]), want_weights=True)
        out[text] = (ids, [m[l][0].detach().numpy().astype(np.float64) for l in range(N_LAYER)])
    return out


def write_head_fixture(w, untrained, enc, rng):
    """tests/fixtures/tiny/heads.txt: held-out texts (made from rng, a seed
    the training never used) and PyTorch's figures for the best
    previous-token head and the best induction head of the trained model
    on each, with the same head's figure in the untrained model."""
    import torch
    texts = {"prev": []}
    while len(texts["prev"]) < 6:
        text = " ".join(sentence(rng) for _ in range(3))
        if len(enc.encode(text)) <= N_POSITIONS:
            texts["prev"].append(text)
    texts["prev"] += [" ".join(rng.choice(WORDS) for _ in range(30)) + "." for _ in range(6)]
    texts["induction"] = []
    for _ in range(8):
        run = " ".join(rng.sample(WORDS, 12)) + "."
        texts["induction"].append(run + " " + run)
    every = texts["prev"] + texts["induction"]
    trained, initial = head_maps(torch, w, enc, every), head_maps(torch, untrained, enc, every)
    lines = []
    for kind in ("prev", "induction"):
        mean = np.array([[np.mean([head_figure(kind, trained[t][1][l][h], trained[t][0]) for t in texts[kind]])
                          for h in range(N_HEAD)] for l in range(N_LAYER)])
        l, h = np.unravel_index(np.argmax(mean), mean.shape)
        print("heads.txt: %s head %d.%d, mean %.3f over %d texts" % (kind, l, h, mean[l, h], len(texts[kind])))
        for t in texts[kind]:
            lines.append("%s\t%d\t%d\t%.6f\t%.6f\t%s\n" % (kind, l, h, head_figure(kind, trained[t][1][l][h], trained[t][0]),
                                                    head_figure(kind, initial[t][1][l][h], initial[t][0]), t))
    with open(os.path.join(FIXTURE_DIR, "heads.txt"), "w") as f:
        f.write("# by tests/train_tiny.py: do not edit. Each line: prev or induction, a head's layer and\n")
        f.write("# number, PyTorch's mean weight of that head on the previous token (prev) or on the token\n")
        f.write("# after the earlier copy (induction, see induction_targets) in the trained model, then\n")
        f.write("# the same in tiny-untrained, then the held-out text.\n")
        f.writelines(lines)


# The texts of lessons/trained-heads.lesson, and each number the lesson
# quotes or asks for: (model, layer, text, expression as the lesson's "="
# answers write it, PyTorch's value, the value as the lesson writes it or
# "-"). check_tiny.c evaluates each expression on attn-trace's own trace,
# and checks the quoted form against the value and the lesson's text.
LESSON_SENTENCE = "old farmer paints a green boat near the river."
LESSON_RUN = ("quiet reads happy runs one sings child sees letter teacher carries old. "
              "quiet reads happy runs one sings child sees letter teacher carries old.")
LESSON_TO_LETTER = LESSON_RUN[:LESSON_RUN.rindex(" letter") + len(" letter")]
LESSON_TO_SEES = LESSON_RUN[:LESSON_RUN.rindex(" sees") + len(" sees")]


def lesson_facts(ref):
    """ref(model, layer, text) -> mg.reference()'s dict for that trace."""
    def entropy(p):
        p = p[p > 0].astype(np.float64)
        return float(-(p * np.log2(p)).sum())
    facts = []

    def fact(model, layer, text, expr, value, shown="-"):
        facts.append((model, layer, text, expr, float(value), shown))

    t0 = ref("tiny", 0, LESSON_SENTENCE)
    u0 = ref("tiny-untrained", 0, LESSON_SENTENCE)
    scores, weights = t0["L0.scores"][0], t0["L0.attention_weights"][0]
    for k, shown in enumerate(["-5.721", "-8.528", "-4.856", "6.040", "13.517", "8.170"]):
        fact("tiny", 0, LESSON_SENTENCE, "scores[0][5][%d]" % k, scores[5, k], shown)
    fact("tiny", 0, LESSON_SENTENCE, "scores[0][9][9]", scores[9, 9], "18.184")
    fact("tiny", 0, LESSON_SENTENCE, "argmax(scores[0][boat])", np.argmax(scores[5]))
    fact("tiny", 0, LESSON_SENTENCE, "attention_weights[0][5][4]", weights[5, 4], "0.995")
    prev = [weights[r, r - 1] for r in range(1, 9)]  # farmer .. river: the weight on the token before
    fact("tiny", 0, LESSON_SENTENCE, "attention_weights[0][%d][%d]" % (np.argmin(prev) + 1, np.argmin(prev)),
         min(prev), "0.951")
    fact("tiny", 0, LESSON_SENTENCE, "attention_weights[0][%d][%d]" % (np.argmax(prev) + 1, np.argmax(prev)),
         max(prev), "0.999")
    fact("tiny", 0, LESSON_SENTENCE, "H(attention_weights[0][5])", entropy(weights[5]), "0.050")
    us, uw = u0["L0.scores"][0], u0["L0.attention_weights"][0]
    finite = us[np.isfinite(us)]
    fact("tiny-untrained", 0, LESSON_SENTENCE, "max(scores[0][5])", us[5, :6].max(), "-0.069")
    fact("tiny-untrained", 0, LESSON_SENTENCE, "scores[0][5][%d]" % np.argmin(us[5, :6]), us[5, :6].min(), "-0.321")
    assert np.abs(finite).max() < 0.33, "the lesson says every untrained score is within 0.33 of zero"
    fact("tiny-untrained", 0, LESSON_SENTENCE, "max(attention_weights[0][boat])", uw[5].max(), "0.187")
    fact("tiny-untrained", 0, LESSON_SENTENCE, "attention_weights[0][5][%d]" % np.argmin(uw[5, :6]), uw[5, :6].min(),
         "0.145")
    fact("tiny-untrained", 0, LESSON_SENTENCE, "H(attention_weights[0][5])", entropy(uw[5]), "2.579")
    t1 = ref("tiny", 1, LESSON_RUN)
    w1 = t1["L1.attention_weights"][3]
    fact("tiny", 1, LESSON_RUN, "attention_weights[3][20][8]", w1[20, 8], ">0.999")
    hits = [w1[r, r - 12] for r in range(15, 24)]  # happy(16) .. carries(24), on the token after the first copy
    fact("tiny", 1, LESSON_RUN, "attention_weights[3][%d][%d]" % (np.argmin(hits) + 15, np.argmin(hits) + 3),
         min(hits), "0.985")
    fact("tiny", 1, LESSON_RUN, "max(attention_weights[3][24])", w1[24].max(), "0.709")
    fact("tiny", 1, LESSON_RUN, "argmax(attention_weights[3][24])", np.argmax(w1[24]))
    fact("tiny", 1, LESSON_RUN, "argmax(attention_weights[3][20])", np.argmax(w1[20]))
    for name, text in (("letter", LESSON_TO_LETTER), ("sees", LESSON_TO_SEES)):
        r = ref("tiny", 0, text)
        fact("tiny", 0, text, "top_ids[0]", r["top5_ids"][0])
        fact("tiny", 0, text, "top_probs[0]", r["top5_probs"][0], "0.987" if name == "letter" else "0.046")
    return facts


def write_lesson_facts(enc):
    import make_gpt2_fixtures as mg
    weights = {"tiny": read_safetensors_f32(os.path.join(MODEL_DIR, "model.safetensors")),
               "tiny-untrained": read_safetensors_f32(os.path.join(UNTRAINED_DIR, "model.safetensors"))}
    cache = {}

    def ref(model, layer, text):
        if (model, text) not in cache:
            cache[model, text] = mg.reference(weights[model], N_EMBD, N_HEAD, N_LAYER, enc.encode(text))
        return cache[model, text]
    with open(os.path.join(FIXTURE_DIR, "lesson-facts.txt"), "w") as f:
        f.write("# by tests/train_tiny.py: do not edit. The numbers of lessons/trained-heads.lesson, as PyTorch\n")
        f.write("# computes them. Each line: model, layer, text, expression, value, the lesson's text of it or -.\n")
        for model, layer, text, expr, value, shown in lesson_facts(ref):
            f.write("%s\t%d\t%s\t%s\t%.9g\t%s\n" % (model, layer, text, expr, value, shown))


def print_heads(prev, ind):
    print("head   previous-token  induction")
    for l in range(N_LAYER):
        for h in range(N_HEAD):
            print("%d.%d    %.3f           %.3f" % (l, h, prev[l, h], ind[l, h]))


def main():
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    texts = [segment(rng) for _ in range(BPE_SEGMENTS)]
    merges = train_bpe(texts, VOCAB)
    enc = Encoder(merges)
    assert len(enc.vocab) == VOCAB, len(enc.vocab)
    assert all(len(enc.encode(" " + word)) == 1 for word in WORDS), "a word is more than one token"
    if sys.argv[1:] == ["--fixtures"]:
        write_fixtures(enc, random.Random(SEED + 2))
        return
    if sys.argv[1:] == ["--lesson-facts"]:
        write_lesson_facts(enc)
        return
    if sys.argv[1:] == ["--heads"]:
        w = read_safetensors_f32(os.path.join(MODEL_DIR, "model.safetensors"))
        print_heads(*head_scores(torch, w, enc, random.Random(SEED + 1)))
        return
    print("tokenizer: %d segments, vocabulary %d" % (len(texts), VOCAB), flush=True)
    w, untrained = train(torch, enc, lambda w: head_scores(torch, w, enc, random.Random(SEED + 1)))
    write_model(w, merges, enc)
    write_model(untrained, merges, enc, UNTRAINED_DIR)
    print("untrained:")
    print_heads(*head_scores(torch, untrained, enc, random.Random(SEED + 1)))
    print("trained:")
    print_heads(*head_scores(torch, w, enc, random.Random(SEED + 1)))
    write_fixtures(enc, random.Random(SEED + 2))


if __name__ == "__main__":
    main()
