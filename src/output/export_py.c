/*
 * export_py.c - the self-checking PyTorch script of a trace (see export_py.h).
 *
 * The script is a fixed body (the article's code, the comparison, the
 * verdict) under a head of constants written from the trace. The body is
 * Python held here as C text; the head is the only part that varies.
 */
#include "export_py.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attn_limits.h"

/* Most tensors a trace shows, counting repeats. */
#define MAX_SHOWN (TRACE_MAX_STEPS * TRACE_MAX_STEP_TENSORS)

/* The article's two parts as PyTorch code, after the constants. One string a line (C11 promises string literals of 4095 bytes only). */
static const char *const ARTICLE_CODE[] = {
    "\n",
    "\n",
    "def load(name):\n",
    "    \"\"\"A tensor the trace read from its --weights directory.\"\"\"\n",
    "    return torch.from_numpy(np.load(LOADED[name]))\n",
    "\n",
    "\n",
    "def causal_mask(s):\n",
    "    return torch.triu(torch.ones(s, s), diagonal=1).bool()\n",
    "\n",
    "\n",
    "def single_head():\n",
    "    \"\"\"Part 1 of the article: one head, W.x, following the focus token.\"\"\"\n",
    "    d, n = D_MODEL, FOCUS\n",
    "    torch.manual_seed(SEED)\n",
    "    embed = torch.nn.Embedding(VOCAB_SIZE, d)\n",
    "    if \"single_head.embedding\" in LOADED:\n",
    "        with torch.no_grad():\n",
    "            embed.weight.copy_(load(\"single_head.embedding\"))\n",
    "    embedding = embed.weight.detach()\n",
    "    tokenized_sentence = torch.tensor(TOKEN_IDS)\n",
    "    sentence_embed = embed(tokenized_sentence).detach()\n",
    "    s = sentence_embed.shape[0]\n",
    "\n",
    "    w_key = torch.rand(d, d)\n",
    "    w_query = torch.rand(d, d)\n",
    "    w_value = torch.rand(d, d)\n",
    "    # a loaded matrix replaces its draw; the draw still happens, so the others come out as usual\n",
    "    w_key = load(\"single_head.w_key\") if \"single_head.w_key\" in LOADED else w_key\n",
    "    w_query = load(\"single_head.w_query\") if \"single_head.w_query\" in LOADED else w_query\n",
    "    w_value = load(\"single_head.w_value\") if \"single_head.w_value\" in LOADED else w_value\n",
    "\n",
    "    x_n = sentence_embed[n - 1]\n",
    "    key_n = w_key.matmul(x_n)\n",
    "    query_n = w_query.matmul(x_n)\n",
    "    value_n = w_value.matmul(x_n)\n",
    "    keys = sentence_embed.matmul(w_key.T)\n",
    "    values = sentence_embed.matmul(w_value.T)\n",
    "    scores_n = query_n.matmul(keys.T)\n",
    "    scaled_scores_n = scores_n / d ** 0.5\n",
    "    if CAUSAL:\n",
    "        scaled_scores_n = scaled_scores_n.masked_fill(torch.arange(s) > n - 1, float(\"-inf\"))\n",
    "    a_n = F.softmax(scaled_scores_n, dim=0)\n",
    "    z_n = a_n.matmul(values)\n",
    "\n",
    "    queries = sentence_embed.matmul(w_query.T)\n",
    "    scores = queries.matmul(keys.T) / d ** 0.5\n",
    "    if CAUSAL:\n",
    "        scores = scores.masked_fill(causal_mask(s), float(\"-inf\"))\n",
    "    attention_weights = F.softmax(scores, dim=-1)\n",
    "    z = attention_weights.matmul(values)\n",
    "    return {\"tokenized_sentence\": tokenized_sentence, \"embedding\": embedding,\n",
    "            \"sentence_embed\": sentence_embed, \"w_key\": w_key, \"w_query\": w_query,\n",
    "            \"w_value\": w_value, \"x_%d\" % n: x_n, \"key_%d\" % n: key_n, \"query_%d\" % n: query_n,\n",
    "            \"value_%d\" % n: value_n, \"keys\": keys, \"values\": values, \"scores_%d\" % n: scores_n,\n",
    "            \"scaled_scores_%d\" % n: scaled_scores_n, \"a%d\" % n: a_n, \"z%d\" % n: z_n,\n",
    "            \"queries\": queries, \"scores\": scores, \"attention_weights\": attention_weights, \"z\": z}\n",
    "\n",
    "\n",
    "def multi_head():\n",
    "    \"\"\"Part 2 of the article: HEADS heads, x.W and einsum, re-seeded.\"\"\"\n",
    "    d, h = D_MODEL, HEADS\n",
    "    d_k = d // h\n",
    "    torch.manual_seed(SEED)\n",
    "    embed = torch.nn.Embedding(VOCAB_SIZE, d)\n",
    "    if \"single_head.embedding\" in LOADED:\n",
    "        with torch.no_grad():\n",
    "            embed.weight.copy_(load(\"single_head.embedding\"))\n",
    "    sentence_embed = embed(torch.tensor(TOKEN_IDS)).detach()\n",
    "    s = sentence_embed.shape[0]\n",
    "\n",
    "    w_query = torch.rand(h, d, d_k)\n",
    "    w_key = torch.rand(h, d, d_k)\n",
    "    w_value = torch.rand(h, d, d_k)\n",
    "    w_output = torch.rand(d, d)\n",
    "    w_query = load(\"multi_head.w_query\") if \"multi_head.w_query\" in LOADED else w_query\n",
    "    w_key = load(\"multi_head.w_key\") if \"multi_head.w_key\" in LOADED else w_key\n",
    "    w_value = load(\"multi_head.w_value\") if \"multi_head.w_value\" in LOADED else w_value\n",
    "    w_output = load(\"multi_head.w_output\") if \"multi_head.w_output\" in LOADED else w_output\n",
    "\n",
    "    queries = torch.einsum(\"sd,hde->hse\", sentence_embed, w_query)\n",
    "    keys = torch.einsum(\"sd,hde->hse\", sentence_embed, w_key)\n",
    "    values = torch.einsum(\"sd,hde->hse\", sentence_embed, w_value)\n",
    "    scores = torch.einsum(\"hse,hek->hsk\", queries, keys.transpose(-2, -1)) / d_k ** 0.5\n",
    "    if CAUSAL:\n",
    "        scores = scores.masked_fill(causal_mask(s), float(\"-inf\"))\n",
    "    attention_weights = F.softmax(scores, dim=-1)\n",
    "    head_outputs = torch.einsum(\"hij,hjk->hik\", attention_weights, values)\n",
    "    concat_heads = head_outputs.permute(1, 0, 2).reshape(s, -1)\n",
    "    multihead_output = concat_heads.matmul(w_output)\n",
    "    return {\"sentence_embed\": sentence_embed, \"w_query\": w_query, \"w_key\": w_key,\n",
    "            \"w_value\": w_value, \"w_output\": w_output, \"queries\": queries, \"keys\": keys,\n",
    "            \"values\": values, \"scores\": scores, \"attention_weights\": attention_weights,\n",
    "            \"head_outputs\": head_outputs, \"concat_heads\": concat_heads,\n",
    "            \"multihead_output\": multihead_output}\n",
    "\n",
    "\n",
    NULL,
};

/* A GPT-2 checkpoint read and run with torch.nn.functional, after the constants: a
 * small safetensors reader (Debian has no python3-safetensors) and the stages attn-trace traces. One string a line (C11 promises string literals of 4095 bytes only). */
static const char *const MODEL_CODE[] = {
    "\n",
    "\n",
    "def read_safetensors(path):\n",
    "    \"\"\"Every tensor of a .safetensors file, by name (a leading \"transformer.\" dropped), as\n",
    "    float32 torch tensors. The format is an 8-byte little-endian header length, a JSON\n",
    "    header of name -> dtype, shape, byte range, then the bytes. F16 and BF16 are widened\n",
    "    to float32 exactly, as attn-trace widens them.\"\"\"\n",
    "    with open(path, \"rb\") as f:\n",
    "        data = f.read()\n",
    "    (length,) = struct.unpack(\"<Q\", data[:8])\n",
    "    header = json.loads(data[8:8 + length].decode(\"utf-8\"))\n",
    "    base = 8 + length\n",
    "    tensors = {}\n",
    "    for name, info in header.items():\n",
    "        if name == \"__metadata__\" or not isinstance(info, dict):\n",
    "            continue\n",
    "        start, end = info[\"data_offsets\"]\n",
    "        raw = data[base + start:base + end]\n",
    "        kind = info[\"dtype\"]\n",
    "        if kind == \"F32\":\n",
    "            array = np.frombuffer(raw, dtype=\"<f4\").astype(np.float32)\n",
    "        elif kind == \"F16\":\n",
    "            array = np.frombuffer(raw, dtype=\"<f2\").astype(np.float32)\n",
    "        elif kind == \"BF16\":\n",
    "            array = (np.frombuffer(raw, dtype=\"<u2\").astype(np.uint32) << 16).view(np.float32)\n",
    "        else:\n",
    "            continue  # the causal-mask buffers (attn.bias), never read\n",
    "        if name.startswith(\"transformer.\"):\n",
    "            name = name[len(\"transformer.\"):]\n",
    "        tensors[name] = torch.from_numpy(array.reshape(info[\"shape\"]).copy())\n",
    "    return tensors\n",
    "\n",
    "\n",
    "def gpt2():\n",
    "    \"\"\"GPT-2 as attn-trace traces it: the embeddings, blocks 0..LAYER-1 whole, then block\n",
    "    LAYER's attention stage by stage, then the rest of the model to the next token.\"\"\"\n",
    "    with open(os.path.join(MODEL_DIR, \"config.json\"), encoding=\"utf-8\") as f:\n",
    "        config = json.load(f)\n",
    "    w = read_safetensors(os.path.join(MODEL_DIR, \"model.safetensors\"))\n",
    "    d, heads = config[\"n_embd\"], config[\"n_head\"]\n",
    "    d_k, eps = d // heads, float(config.get(\"layer_norm_epsilon\", 1e-5))\n",
    "    eps = float(np.float32(eps))  # attn-trace holds it as a float32\n",
    "    ids = torch.tensor(TOKEN_IDS)\n",
    "    s = ids.shape[0]\n",
    "    mask = torch.triu(torch.ones(s, s), diagonal=1).bool()\n",
    "    scale = torch.tensor(float(d_k), dtype=torch.float32).sqrt()\n",
    "\n",
    "    def ln(x, name):\n",
    "        return F.layer_norm(x, (d,), w[name + \".weight\"], w[name + \".bias\"], eps)\n",
    "\n",
    "    def attention(x, b):\n",
    "        qkv = torch.addmm(w[b + \"attn.c_attn.bias\"], x, w[b + \"attn.c_attn.weight\"])\n",
    "        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(s, heads, d_k).transpose(0, 1) for i in range(3))\n",
    "        scores = (q.matmul(k.transpose(-1, -2)) / scale).masked_fill(mask, float(\"-inf\"))\n",
    "        weights = F.softmax(scores, dim=-1)\n",
    "        out = weights.matmul(v)\n",
    "        concat = out.transpose(0, 1).reshape(s, d)\n",
    "        proj = torch.addmm(w[b + \"attn.c_proj.bias\"], concat, w[b + \"attn.c_proj.weight\"])\n",
    "        return qkv, q, k, v, scores, weights, out, concat, proj\n",
    "\n",
    "    def mlp(x, b):\n",
    "        h = torch.addmm(w[b + \"mlp.c_fc.bias\"], ln(x, b + \"ln_2\"), w[b + \"mlp.c_fc.weight\"])\n",
    "        return x + torch.addmm(w[b + \"mlp.c_proj.bias\"], F.gelu(h, approximate=\"tanh\"), w[b + "
    "\"mlp.c_proj.weight\"])\n",
    "\n",
    "    token_embed = w[\"wte.weight\"][ids]\n",
    "    position_embed = w[\"wpe.weight\"][:s]\n",
    "    embed_sum = token_embed + position_embed\n",
    "    x = embed_sum\n",
    "    for layer in range(LAYER):\n",
    "        b = \"h.%d.\" % layer\n",
    "        x = mlp(x + attention(ln(x, b + \"ln_1\"), b)[-1], b)\n",
    "    block_input = x\n",
    "    b = \"h.%d.\" % LAYER\n",
    "    # PyTorch's own layer norm also gives each row's mean and 1/sqrt(var + eps)\n",
    "    ln_1, mean, rstd = torch.native_layer_norm(block_input, (d,), w[b + \"ln_1.weight\"], w[b + \"ln_1.bias\"], "
    "eps)\n",
    "    qkv, q, k, v, scores, weights, out, concat, proj = attention(ln_1, b)\n",
    "    attn_residual = block_input + proj\n",
    "    x = mlp(attn_residual, b)\n",
    "    for layer in range(LAYER + 1, config[\"n_layer\"]):\n",
    "        bl = \"h.%d.\" % layer\n",
    "        x = mlp(x + attention(ln(x, bl + \"ln_1\"), bl)[-1], bl)\n",
    "    ln_f = ln(x, \"ln_f\")\n",
    "    logits = ln_f[-1].matmul(w[\"wte.weight\"].T)\n",
    "    probs = F.softmax(logits, dim=-1)\n",
    "    top_probs, top_ids = torch.topk(probs, 5)\n",
    "    return {\"token_ids\": ids, \"token_embed\": token_embed, \"position_embed\": position_embed,\n",
    "            \"embed_sum\": embed_sum, \"block_input\": block_input, \"ln_1\": ln_1,\n",
    "            \"ln_1.weight\": w[b + \"ln_1.weight\"], \"ln_1.bias\": w[b + \"ln_1.bias\"],\n",
    "            \"c_attn.weight\": w[b + \"attn.c_attn.weight\"], \"c_attn.bias\": w[b + \"attn.c_attn.bias\"],\n",
    "            \"c_proj.weight\": w[b + \"attn.c_proj.weight\"], \"c_proj.bias\": w[b + \"attn.c_proj.bias\"],\n",
    "            \"ln_1_mean\": mean.reshape(s), \"ln_1_rstd\": rstd.reshape(s), \"qkv\": qkv,\n",
    "            \"queries\": q, \"keys\": k, \"values\": v, \"scores\": scores, \"attention_weights\": weights,\n",
    "            \"head_outputs\": out, \"concat_heads\": concat, \"attn_output\": proj,\n",
    "            \"attn_residual\": attn_residual, \"ln_f\": ln_f, \"next_token_probs\": probs,\n",
    "            \"top_ids\": top_ids, \"top_probs\": top_probs}\n",
    NULL,
};

/* Shared by both scripts: which BLAS torch has, and the comparison of one tensor. One string a line (C11 promises string literals of 4095 bytes only). */
static const char *const CHECK_CODE[] = {
    "def blas_note():\n",
    "    \"\"\"Which BLAS torch has loaded, read from /proc/self/maps (torch's build line, BLAS_INFO,\n",
    "    names the BLAS it was built against, not the one Debian's alternatives select at run\n",
    "    time), and its CPU capability. \"\" when both are what attn-trace's bits follow (the\n",
    "    reference BLAS, AVX2), else a sentence saying why the bits may differ.\"\"\"\n",
    "    torch.ones(2, 2).matmul(torch.ones(2, 2))\n",
    "    notes = []\n",
    "    libs = set()\n",
    "    try:\n",
    "        with open(\"/proc/self/maps\") as maps:\n",
    "            for line in maps:\n",
    "                path = line.split()[-1] if len(line.split()) >= 6 else \"\"\n",
    "                base = os.path.basename(path).lower()\n",
    "                if \"blas\" in base or \"mkl\" in base or \"blis\" in base:\n",
    "                    libs.add(os.path.realpath(path))\n",
    "    except OSError:\n",
    "        pass\n",
    "    config = torch.__config__.show()\n",
    "    reference = [p for p in libs if os.path.basename(os.path.dirname(p)) == \"blas\" and \"libblas\" in p]\n",
    "    if not reference:\n",
    "        shown = \", \".join(sorted(libs))\n",
    "        if not shown:\n",
    "            shown = \"MKL, built in\" if \"BLAS_INFO=mkl\" in config else \"none found\"\n",
    "        fix = \"\"\n",
    "        if os.path.exists(\"/usr/lib/x86_64-linux-gnu/blas/libblas.so.3\"):\n",
    "            fix = \" (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas selects it)\"\n",
    "        notes.append(\"torch's BLAS is not the reference BLAS (%s): its products add in \"\n",
    "                     \"another order%s\" % (shown, fix))\n",
    "    for line in config.splitlines():\n",
    "        if \"CPU capability usage:\" in line and \"AVX2\" not in line:\n",
    "            cpu = line.split(\":\")[1].strip()\n",
    "            notes.append(\"torch runs its %s kernels, attn-trace follows the AVX2 ones\" % cpu)\n",
    "    return \"; \".join(notes)\n",
    "\n",
    "\n",
    "def first_difference(mine, want, exact, rtol, atol):\n",
    "    \"\"\"None when attn-trace's tensor mine equals torch's want (bit for bit when exact, else\n",
    "    within rtol and atol; whole numbers always exactly), else the first index where they\n",
    "    differ, as a list.\"\"\"\n",
    "    if exact and mine.dtype == torch.float32:\n",
    "        same = mine.view(torch.int32) == want.view(torch.int32)\n",
    "    elif exact or mine.dtype != torch.float32:\n",
    "        same = mine == want\n",
    "    else:\n",
    "        same = torch.isclose(mine, want, rtol=rtol, atol=atol)\n",
    "    if bool(same.all()):\n",
    "        return None\n",
    "    return torch.nonzero(~same)[0].tolist()\n",
    "\n",
    "\n",
    "def check(name, want, directory, exact=None, rtol=None, atol=None):\n",
    "    \"\"\"\"\" when DIRECTORY/NAME.npy holds torch's tensor want (compared as first_difference\n",
    "    does; by default BIT_FOR_BIT, RTOL and ATOL), else what is wrong.\"\"\"\n",
    "    exact = BIT_FOR_BIT if exact is None else exact\n",
    "    rtol, atol = RTOL if rtol is None else rtol, ATOL if atol is None else atol\n",
    "    path = os.path.join(directory, name + \".npy\")\n",
    "    try:\n",
    "        mine = torch.from_numpy(np.load(path))\n",
    "    except (OSError, ValueError) as e:\n",
    "        return \"%s: cannot read %s (%s)\" % (name, path, e)\n",
    "    if mine.dtype != want.dtype:\n",
    "        return \"%s has dtype %s, torch's is %s\" % (name, mine.dtype, want.dtype)\n",
    "    if tuple(mine.shape) != tuple(want.shape):\n",
    "        return \"%s has shape %s, torch's is %s\" % (name, tuple(mine.shape), tuple(want.shape))\n",
    "    at = first_difference(mine, want, exact, rtol, atol)\n",
    "    if at is None:\n",
    "        return \"\"\n",
    "    return \"%s differs at %s: attn-trace %s, torch %s\" % (name, at, format(mine[tuple(at)].item(), \".9g\"),\n",
    "                                                         format(want[tuple(at)].item(), \".9g\"))\n",
    "\n",
    "\n",
    NULL,
};

/* The article script's main: every tensor compared, one verdict line. One string a line (C11 promises string literals of 4095 bytes only). */
static const char *const ARTICLE_MAIN[] = {
    "def main():\n",
    "    if len(sys.argv) > 2 or (len(sys.argv) == 1 and NPY_DIR is None):\n",
    "        print(\"usage: %s NPY_DIR (the directory attn-trace --export-npy wrote)\" % sys.argv[0],\n",
    "              file=sys.stderr)\n",
    "        return 2\n",
    "    directory = sys.argv[1] if len(sys.argv) == 2 else NPY_DIR\n",
    "    if not os.path.isdir(directory):\n",
    "        print(\"verify: FAILED: %s is not a directory (run attn-trace --export-npy DIR)\" % directory)\n",
    "        return 1\n",
    "    torch.set_num_threads(1)\n",
    "    computed = {}\n",
    "    for part, tensors in ((\"single_head\", single_head()), (\"multi_head\", multi_head())):\n",
    "        for name, t in tensors.items():\n",
    "            computed[part + \".\" + name] = t\n",
    "    problems = [check(name, computed[name], directory) for name in EXPECTED]\n",
    "    problems = [p for p in problems if p]\n",
    "    if not problems:\n",
    "        how = \"bit for bit\" if BIT_FOR_BIT else \"within rtol %g, atol %g (fast kernels)\" % (RTOL, ATOL)\n",
    "        count = \"1 tensor\" if len(EXPECTED) == 1 else \"%d tensors\" % len(EXPECTED)\n",
    "        print(\"verify: %s equal to attn-trace's, %s\" % (count, how))\n",
    "        return 0\n",
    "    more = \" (and %d more tensors differ)\" % (len(problems) - 1) if len(problems) > 1 else \"\"\n",
    "    note = blas_note() if BIT_FOR_BIT else \"\"\n",
    "    print(\"verify: FAILED: %s%s%s\" % (problems[0], more, \"; \" + note if note else \"\"))\n",
    "    return 1\n",
    "\n",
    "\n",
    "if __name__ == \"__main__\":\n",
    "    sys.exit(main())\n",
    NULL,
};

/* The model script's main: bit for bit up to the first GELU, within GELU_RTOL and
 * GELU_ATOL after it. One string a line (C11 promises string literals of 4095 bytes only). */
static const char *const MODEL_MAIN[] = {
    "def main():\n",
    "    if len(sys.argv) > 2 or (len(sys.argv) == 1 and NPY_DIR is None):\n",
    "        print(\"usage: %s NPY_DIR (the directory attn-trace --export-npy wrote)\" % sys.argv[0],\n",
    "              file=sys.stderr)\n",
    "        return 2\n",
    "    directory = sys.argv[1] if len(sys.argv) == 2 else NPY_DIR\n",
    "    if not os.path.isdir(directory):\n",
    "        print(\"verify: FAILED: %s is not a directory (run attn-trace --export-npy DIR)\" % directory)\n",
    "        return 1\n",
    "    torch.set_num_threads(1)\n",
    "    computed = {\"model.\" + name: t for name, t in gpt2().items()}\n",
    "    # A tensor computed after a GELU (the MLP of a block) is compared within GELU_RTOL and\n",
    "    # GELU_ATOL: attn-trace's tanh and SLEEF's, which torch uses, differ by 1 ulp on a few\n",
    "    # inputs in a thousand. Every other one is bit for bit on the reference kernels.\n",
    "    after_gelu = {\"ln_f\", \"next_token_probs\", \"top_probs\"}\n",
    "    if LAYER > 0:\n",
    "        after_gelu |= {\"block_input\", \"ln_1\", \"ln_1_mean\", \"ln_1_rstd\", \"qkv\", \"queries\", \"keys\",\n",
    "                       \"values\", \"scores\", \"attention_weights\", \"head_outputs\", \"concat_heads\",\n",
    "                       \"attn_output\", \"attn_residual\"}\n",
    "    problems, exact_count = [], 0\n",
    "    for name in EXPECTED:\n",
    "        if name not in computed:\n",
    "            problems.append(\"%s: this script does not compute it\" % name)\n",
    "            continue\n",
    "        exact = BIT_FOR_BIT and name[len(\"model.\"):] not in after_gelu\n",
    "        rtol, atol = (RTOL, ATOL) if not BIT_FOR_BIT else (GELU_RTOL, GELU_ATOL)\n",
    "        exact_count += exact\n",
    "        problems.append(check(name, computed[name], directory, exact, rtol, atol))\n",
    "    problems = [p for p in problems if p]\n",
    "    if not problems:\n",
    "        count = \"1 tensor\" if len(EXPECTED) == 1 else \"%d tensors\" % len(EXPECTED)\n",
    "        rest = len(EXPECTED) - exact_count\n",
    "        if not BIT_FOR_BIT:\n",
    "            how = \"within rtol %g, atol %g (fast kernels)\" % (RTOL, ATOL)\n",
    "        elif rest == 0:\n",
    "            how = \"bit for bit\"\n",
    "        else:\n",
    "            how = \"%d bit for bit, %d after a GELU within rtol %g, atol %g\" % (exact_count, rest, GELU_RTOL,\n",
    "                                                                             GELU_ATOL)\n",
    "        print(\"verify: %s equal to attn-trace's, %s\" % (count, how))\n",
    "        return 0\n",
    "    more = \" (and %d more tensors differ)\" % (len(problems) - 1) if len(problems) > 1 else \"\"\n",
    "    note = blas_note() if BIT_FOR_BIT else \"\"\n",
    "    print(\"verify: FAILED: %s%s%s\" % (problems[0], more, \"; \" + note if note else \"\"))\n",
    "    return 1\n",
    "\n",
    "\n",
    "if __name__ == \"__main__\":\n",
    "    sys.exit(main())\n",
    NULL,
};

/* Appends s as a Python bytes literal turned into a path (os.fsdecode), so
 * any file name, even one that is not UTF-8, comes back as it was. */
static void put_path(StrBuf *out, const char *s)
{
    strbuf_puts(out, "os.fsdecode(b\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            strbuf_printf(out, "\\x%02x", *p);
        else
            strbuf_append(out, (const char *)p, 1);
    }
    strbuf_puts(out, "\")");
}

/* Appends s as a Python str literal: UTF-8 kept (the script is UTF-8),
 * quotes, backslashes and control bytes escaped. */
static void put_text(StrBuf *out, const char *s)
{
    strbuf_puts(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '\\' || *p == '"')
            strbuf_printf(out, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            strbuf_printf(out, "\\x%02x", *p);
        else
            strbuf_append(out, (const char *)p, 1);
    }
    strbuf_puts(out, "\"");
}

/* dir made absolute (realpath) into buf, or dir itself when it cannot be
 * resolved. */
static const char *absolute(const char *dir, char *buf)
{
    return realpath(dir, buf) != NULL ? buf : dir;
}

/* The configuration constants: what the trace was built from. */
static void put_config(StrBuf *out, const Trace *trace)
{
    const Config *cfg = &trace->config;
    strbuf_printf(out, "SEED = %llu\n", (unsigned long long)cfg->seed);
    strbuf_puts(out, "SENTENCE = ");
    if (cfg->sentence != NULL)
        put_text(out, cfg->sentence);
    else
        strbuf_puts(out, "None");
    strbuf_puts(out, "  # labels only: the ids below are what is computed\nTOKEN_IDS = [");
    for (size_t i = 0; i < cfg->n_tokens; i++)
        strbuf_printf(out, "%s%ld", i > 0 ? ", " : "", cfg->token_ids[i]);
    strbuf_printf(out, "]\nVOCAB_SIZE = %zu\nD_MODEL = %zu\nHEADS = %zu\n", cfg->vocab_size, cfg->d_model, cfg->heads);
    strbuf_printf(out, "FOCUS = %zu  # 1-based, as --focus\nCAUSAL = %s\n", cfg->focus, cfg->causal ? "True" : "False");
    strbuf_printf(out, "BIT_FOR_BIT = %s  # %s kernels computed the trace\n", trace->fast_kernels ? "False" : "True",
                  trace->fast_kernels ? "the fast" : "the reference");
    strbuf_puts(out, "RTOL, ATOL = " EXPORT_PY_RTOL ", " EXPORT_PY_ATOL "  # the tolerance when not BIT_FOR_BIT\n");
}

/* The distinct (part, name) tensors of trace's steps (only step only_step
 * when it is >= 0), in the order --export-npy writes them, into seen and
 * parts (MAX_SHOWN each). Returns their count. */
static int collect(const Trace *trace, int only_step, const TraceTensor **seen, TracePart *parts)
{
    int n = 0;
    for (int i = 0; i < trace->n_steps; i++) {
        const TraceStep *step = &trace->steps[i];
        if (only_step >= 0 && i != only_step)
            continue;
        for (int j = 0; j < step->n_tensors && n < MAX_SHOWN; j++) {
            bool seen_before = false;
            for (int k = 0; k < n && !seen_before; k++)
                seen_before = parts[k] == step->part && strcmp(seen[k]->name, step->tensors[j].name) == 0;
            if (!seen_before) {
                seen[n] = &step->tensors[j];
                parts[n++] = step->part;
            }
        }
    }
    return n;
}

/* EXPECTED (every tensor the matching --export-npy writes, in its order)
 * and LOADED (the --weights files the trace read, by tensor, with
 * absolute paths). */
static void put_tensors(StrBuf *out, const Trace *trace, const char *weights_dir, int only_step)
{
    const TraceTensor *seen[MAX_SHOWN];
    TracePart parts[MAX_SHOWN];
    int n = collect(trace, only_step, seen, parts);
    strbuf_puts(out, "EXPECTED = [\n");
    for (int k = 0; k < n; k++)
        strbuf_printf(out, "    \"%s.%s\",\n", trace_part_name(parts[k]), seen[k]->name);
    strbuf_puts(out, "]\nLOADED = {\n");
    char dir[PATH_MAX];
    const char *wdir = weights_dir != NULL ? absolute(weights_dir, dir) : NULL;
    n = collect(trace, -1, seen, parts);
    for (int k = 0; k < n && wdir != NULL; k++) {
        if (!seen[k]->loaded)
            continue;
        const char *part = trace_part_name(parts[k]);
        char path[PATH_MAX + TRACE_NAME_BYTES + 32];
        snprintf(path, sizeof path, "%s/%s.%s.npy", wdir, part, seen[k]->name);
        strbuf_printf(out, "    \"%s.%s\": ", part, seen[k]->name);
        put_path(out, path);
        strbuf_puts(out, ",\n");
    }
    strbuf_puts(out, "}\n");
}

/* Appends every line of lines (NULL-terminated). */
static void put_lines(StrBuf *out, const char *const *lines)
{
    for (int i = 0; lines[i] != NULL; i++)
        strbuf_puts(out, lines[i]);
}

/* The constants of a model trace (--model): the checkpoint, the layer, the
 * token ids and how close the tensors must be. */
static void put_model_config(StrBuf *out, const Trace *trace)
{
    const Config *cfg = &trace->config;
    char dir[PATH_MAX];
    strbuf_puts(out, "MODEL_DIR = ");
    put_path(out, absolute(cfg->model, dir));
    strbuf_printf(out, "  # config.json and model.safetensors\nLAYER = %zu  # the block traced, as --layer\n",
                  cfg->layer);
    strbuf_puts(out, "TOKEN_IDS = [");
    for (size_t i = 0; i < cfg->n_tokens; i++)
        strbuf_printf(out, "%s%ld", i > 0 ? ", " : "", cfg->token_ids[i]);
    strbuf_printf(out, "]\nBIT_FOR_BIT = %s  # %s kernels computed the trace\n", trace->fast_kernels ? "False" : "True",
                  trace->fast_kernels ? "the fast" : "the reference");
    strbuf_puts(out, "RTOL, ATOL = " EXPORT_PY_RTOL ", " EXPORT_PY_ATOL "  # the tolerance when not BIT_FOR_BIT\n");
    strbuf_puts(out, "GELU_RTOL, GELU_ATOL = " EXPORT_PY_GELU_RTOL ", " EXPORT_PY_GELU_ATOL
                     "  # after a GELU, on the reference kernels\n");
}

void export_py_script(StrBuf *out, const Trace *trace, const char *weights_dir, const ExportPyOptions *opts)
{
    bool model = trace->config.model != NULL;
    strbuf_printf(out,
                  "#!/usr/bin/python3\n"
                  "# Rebuilds a trace of attn-trace with PyTorch, %s, and checks that every\n"
                  "# tensor equals the one attn-trace computed. Written by attn-trace --export-py; run it as\n"
                  "#     python3 THIS_FILE [NPY_DIR]\n"
                  "# where NPY_DIR is what attn-trace --export-npy wrote for the same trace. It needs only\n"
                  "# PyTorch and NumPy (Debian: python3-torch). Exit status 0: equal, 1: not, 2: usage.\n"
                  "# docs/verify.md tells more.\n"
                  "%s\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n\n"
                  "# The trace, as attn-trace built it.\n",
                  model ? "the GPT-2 checkpoint it read" : "the article's code",
                  model ? "import json\nimport os\nimport struct\nimport sys\n" : "import os\nimport sys\n");
    if (model)
        put_model_config(out, trace);
    else
        put_config(out, trace);
    strbuf_puts(out, "NPY_DIR = ");
    char dir[PATH_MAX];
    if (opts->npy_dir != NULL)
        put_path(out, absolute(opts->npy_dir, dir));
    else
        strbuf_puts(out, "None");
    strbuf_puts(out, "  # checked when no directory is named\n");
    put_tensors(out, trace, weights_dir, opts->only_step);
    put_lines(out, model ? MODEL_CODE : ARTICLE_CODE);
    put_lines(out, CHECK_CODE);
    put_lines(out, model ? MODEL_MAIN : ARTICLE_MAIN);
}

bool export_py(const Trace *trace, const char *path, const char *weights_dir, const ExportPyOptions *opts, Error *err)
{
    StrBuf text = {0};
    export_py_script(&text, trace, weights_dir, opts);
    if (text.failed) {
        strbuf_free(&text);
        return error_oom(err, "the script");
    }
    char tmp[LIMIT_PATH_BYTES];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) {
        strbuf_free(&text);
        return error_set(err, STATUS_FAILURE, "%s: the path is too long", path);
    }
    FILE *f = fopen(tmp, "w");
    bool ok = f != NULL && fwrite(strbuf_text(&text), 1, text.len, f) == text.len;
    int saved = errno;
    if (f != NULL && fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    strbuf_free(&text);
    if (ok && (chmod(tmp, 0755) != 0 || rename(tmp, path) != 0)) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        if (f != NULL)
            unlink(tmp);
        return error_set(err, STATUS_FAILURE, "%s: cannot write the script: %s", path, strerror(saved));
    }
    return true;
}
