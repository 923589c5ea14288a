"""Lightning IR 0.0.6's training datasets on small local files, for the parity
test of train/data: every sample's query, documents and targets, as JSON.

  data.py TESTDATA_DIR > expected.json

TESTDATA_DIR holds queries.tsv, docs.tsv, qrels.qrels (TREC, with two qrel
iterations), run.run (TREC run) and the tuple files triples.tsv (qid pos neg),
scored.json (ColBERT's [qid, [pid, score], ...] lines) and kd.tsv
(pos_score neg_score qid pid1 pid2). The files are copied to a temporary
directory (ir_datasets builds a docstore beside the docs file), registered
with register_new_dataset, and read by RunDataset / TupleDataset exactly as a
Lightning IR training run reads them. Only deterministic settings are dumped
(sampling_strategy "top", or no sampling): random strategies draw from numpy's
global RNG, which irflow does not reproduce.

Targets: a RunDataset with qrels of several iterations gives a [docs,
iterations] target matrix; every Lightning IR loss reduces it with amax(-1)
(LossFunction.process_targets), and that reduced vector is what is dumped.
NaN targets (normalize_targets over equal values) are dumped as null.
"""
import json
import math
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

src = Path(sys.argv[1]).resolve()
tmp = Path(tempfile.mkdtemp(prefix="irflow-lir-data-"))
os.environ["IR_DATASETS_HOME"] = str(tmp / "ir_datasets")

import ir_datasets  # noqa: E402
import lightning_ir  # noqa: E402
from lightning_ir.data.dataset import RunDataset, TupleDataset  # noqa: E402
from lightning_ir.data.external_datasets.ir_datasets_utils import ScoredDocTuples, register_new_dataset  # noqa: E402

for name in ["queries.tsv", "docs.tsv", "qrels.qrels", "triples.tsv", "scored.json", "kd.tsv"]:
    shutil.copy(src / name, tmp / name)
# RunDataset names its ir_datasets entry after the run file: <id>.run.
shutil.copy(src / "run.run", tmp / "irflowqrels.run")
shutil.copy(src / "run.run", tmp / "irflownoqrels.run")

docs, queries = str(tmp / "docs.tsv"), str(tmp / "queries.tsv")
register_new_dataset("irflowqrels", docs=docs, queries=queries, qrels=str(tmp / "qrels.qrels"))
register_new_dataset("irflownoqrels", docs=docs, queries=queries)
register_new_dataset("irflowtriples", docs=docs, queries=queries, docpairs=str(tmp / "triples.tsv"))
register_new_dataset("irflowscored", docs=docs, queries=queries, docpairs=str(tmp / "scored.json"),
                     DocpairsType=ScoredDocTuples)
register_new_dataset("irflowkd", docs=docs, queries=queries, docpairs=str(tmp / "kd.tsv"),
                     DocpairsType=ScoredDocTuples)

# name, run file (qrels or not), RunDataset arguments
RUN_CASES = [
    ("all-relevance", "irflowqrels", dict(targets="relevance")),
    ("depth5-rank", "irflowqrels", dict(depth=5, targets="rank")),
    ("depth7-sample3-score", "irflowqrels", dict(depth=7, sample_size=3, targets="score")),
    ("sample3-score-normalized", "irflowqrels", dict(sample_size=3, targets="score", normalize_targets=True)),
    ("depth6-sample4-relevance-normalized", "irflowqrels",
     dict(depth=6, sample_size=4, targets="relevance", normalize_targets=True)),
    ("relevance-normalized", "irflowqrels", dict(targets="relevance", normalize_targets=True)),
    # query 10's top 2 are judged only in iteration 0: the empty iteration-1 cells (0) set the minimum
    ("depth2-relevance-normalized", "irflowqrels", dict(depth=2, targets="relevance", normalize_targets=True)),
    ("depth5-sample5-rank-normalized", "irflowqrels",
     dict(depth=5, sample_size=5, targets="rank", normalize_targets=True)),
    ("depth3-no-targets", "irflowqrels", dict(depth=3)),
    ("depth4-sample2-relevance", "irflowqrels", dict(depth=4, sample_size=2, targets="relevance")),
    # query 6's top 2 are non-relevant though its whole list is not
    ("sample2-relevance-normalized", "irflowqrels", dict(sample_size=2, targets="relevance", normalize_targets=True)),
    ("all-single-relevant-unsampled", "irflowqrels", dict(sampling_strategy="single_relevant", targets="relevance")),
    ("noqrels-sample4-score", "irflownoqrels", dict(sample_size=4, targets="score")),
    ("noqrels-relevance", "irflownoqrels", dict(targets="relevance")),
    ("all-score", "irflowqrels", dict(targets="score")),
    ("depth7-score", "irflowqrels", dict(depth=7, targets="score")),
    ("noqrels-depth7-score", "irflownoqrels", dict(depth=7, targets="score")),
]

TUPLE_CASES = [
    ("triples-order", "irflowtriples", dict(targets="order")),
    ("triples-score", "irflowtriples", dict(targets="score")),
    ("scored-order", "irflowscored", dict(targets="order")),
    ("scored-order-2docs", "irflowscored", dict(targets="order", num_docs=2)),
    ("scored-score", "irflowscored", dict(targets="score")),
    ("scored-score-2docs", "irflowscored", dict(targets="score", num_docs=2)),
    ("kd-score", "irflowkd", dict(targets="score")),
    ("kd-order", "irflowkd", dict(targets="order")),
]


def targets_of(t):
    if t is None:
        return None
    if t.ndim == 2:  # qrel iterations: what process_targets hands the losses
        t = t.amax(-1)
    return [None if math.isnan(v) else v for v in t.double().tolist()]


def dump(sample):
    return {
        "query_id": sample.query_id,
        "query": sample.query,
        "doc_ids": list(sample.doc_ids),
        "docs": list(sample.docs),
        "targets": targets_of(sample.targets),
    }


out = {"lightning_ir": lightning_ir.__version__ if hasattr(lightning_ir, "__version__") else "0.0.6",
       "ir_datasets": ir_datasets.__version__, "run": [], "tuples": []}
for name, dataset, kwargs in RUN_CASES:
    case = {"name": name, "with_qrels": dataset == "irflowqrels", "params": kwargs}
    try:
        ds = RunDataset(str(tmp / f"{dataset}.run"), **kwargs)
        case["samples"] = [dump(ds[i]) for i in range(len(ds))]
    except Exception as e:  # noqa: BLE001 - the oracle records that Lightning IR refuses
        case["error"] = f"{type(e).__name__}: {e}"
    out["run"].append(case)
for name, dataset, kwargs in TUPLE_CASES:
    case = {"name": name, "file": {"irflowtriples": "triples.tsv", "irflowscored": "scored.json",
                                   "irflowkd": "kd.tsv"}[dataset], "params": kwargs}
    try:
        case["samples"] = [dump(s) for s in TupleDataset(dataset, **kwargs)]
    except Exception as e:  # noqa: BLE001
        case["error"] = f"{type(e).__name__}: {e}"
    out["tuples"].append(case)

shutil.rmtree(tmp, ignore_errors=True)
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
