"""Reference values and gradients of fit's training losses, for train/loss's
parity test.

  losses.py [--out train/loss/testdata/losses.json] [--seed 20240917]

Runs in the PyTorch oracle venv (.cache/venv-torch: torch 2.11.0, lightning-ir
0.0.6). Every case is seeded random input (scores, targets, embeddings; all
values float32-representable) for one loss; the script computes the loss
in float64 and its gradient with respect to the scores (or the embeddings),
and writes them as JSON.

- Lightning IR's losses run through Lightning IR's own module code:
  CrossEncoderModule._compute_losses for the scoring losses (it views the
  targets as [Q, D, k] before the loss takes their max over k) and
  BiEncoderModule._compute_losses for the regularisers and the in-batch
  losses (in-batch sampling by get_ib_idcs and _get_ib_doc_embeddings, the
  in-batch docs scored with a dot product of pooled embeddings; the Go test
  builds its in-batch score matrix from the same embeddings the same way).
- xpmir's listwise distillation losses (experimaestro-ir, main at 764ad77,
  src/xpmir/letor/distillation/listwise.py) are not installed: they are
  transcribed below from their formulas.
- Random negative sampling is compared either where it draws nothing that
  matters (equal negative counts per query; max_num_neg_samples at least the
  number of negatives, which only reorders them) or with torch.randperm
  patched to the identity ("identity_perm": the Go test swaps in the
  identity permutation too).
- Where Lightning IR's value is NaN (pairwise losses with no pair of docs
  with different targets) the case says "undefined": the Go loss returns
  ErrNoPairs there.
"""

import argparse
import contextlib
import json
import math
import types
import warnings
from importlib.metadata import version

import torch

import lightning_ir.loss as L
from lightning_ir.base import LightningIROutput
from lightning_ir.bi_encoder.bi_encoder_model import BiEncoderEmbedding, BiEncoderOutput
from lightning_ir.bi_encoder.bi_encoder_module import BiEncoderModule
from lightning_ir.cross_encoder.cross_encoder_module import CrossEncoderModule
from lightning_ir.data import TrainBatch

torch.set_default_dtype(torch.float64)
# mse_loss warns about broadcasting ConstantMarginMSE's scalar margin
warnings.filterwarnings("ignore", message="Using a target size")

# ---- xpmir transcriptions (formulas of experimaestro-ir's listwise.py) ----


def approx_ranks(s, temperature):
    # rank_i = 1 + sum over j != i of sigmoid((s_j - s_i) / T)
    d = s.shape[1]
    sig = torch.sigmoid((s.unsqueeze(1) - s.unsqueeze(2)) / temperature)
    return (sig * (1 - torch.eye(d))).sum(-1) + 1


class DistillRankNet:
    """BCE-with-logits(s_i - s_j, 1), mean over pairs with teacher t_i > t_j."""

    def __call__(self, s, t):
        q, i, j = torch.nonzero(t.unsqueeze(-1) > t.unsqueeze(1), as_tuple=True)
        m = s[q, i] - s[q, j]
        return torch.nn.functional.binary_cross_entropy_with_logits(m, torch.ones_like(m))


class ADRMSE:
    """mean of (approx_rank(s) - rank(t))^2 / log2(rank(t) + 1), T = 1."""

    def __call__(self, s, t):
        ranks = (torch.argsort(torch.argsort(t, descending=True)) + 1).to(s)
        return ((approx_ranks(s, 1.0) - ranks) ** 2 / torch.log2(ranks + 1)).mean()


class ListwiseSoftmaxCrossEntropy:
    """-sum_q logsumexp_i(norm(s) + 1 - 1/r) / Q, r = teacher scores, 0 -> 1e-8."""

    def __init__(self, output_type="real"):
        self.output_type = output_type

    def __call__(self, s, t):
        norm = {"real": lambda x: torch.log_softmax(x, -1), "log_probability": lambda x: x, "probability": torch.log}[
            self.output_type
        ](s)
        r = torch.where(t == 0, torch.tensor(1e-8), t)
        return -torch.logsumexp(norm + (1.0 - 1.0 / r), dim=-1).sum() / s.shape[0]


XPMIR = {"DistillRankNet": DistillRankNet, "ADR-MSE": ADRMSE, "ListwiseSoftmaxCrossEntropy": ListwiseSoftmaxCrossEntropy}

# ---- Lightning IR through its modules ----


def make_lir(name, params, options):
    kw = dict(params)
    for k in ("max_num_neg_samples",):
        if k in kw:
            kw[k] = int(kw[k])
    for k, v in options.items():
        kw[k] = {"true": True, "false": False}.get(v, v) if k == "scale_gains" else (None if v == "none" else v)
    return getattr(L, name)(**kw)


def batch_of(q, d, targets):
    return TrainBatch(
        queries=[f"q{i}" for i in range(q)],
        docs=[[f"d{i}.{j}" for j in range(d)] for i in range(q)],
        query_ids=[str(i) for i in range(q)],
        targets=targets.clone(),
    )


def dot_score(out):
    # the fake bi-encoder's similarity: each query against its block of docs
    qe = out.query_embeddings.embeddings[:, 0]  # [Q, dim]
    de = out.doc_embeddings.embeddings[:, 0]  # [Q*K, dim]
    k = de.shape[0] // qe.shape[0]
    return types.SimpleNamespace(scores=(qe.repeat_interleave(k, 0) * de).sum(-1))


def run_lir(lf, case, t):
    q, d = case["q"], case["d"]
    scores = t["scores"]
    if isinstance(lf, (L.InBatchLossFunction, L.EmbeddingLossFunction)):
        qe, de = t["query_embeddings"], t["doc_embeddings"]
        qe3 = qe if qe.dim() == 3 else qe.unsqueeze(1)
        de3 = de if de.dim() == 3 else de.unsqueeze(1)
        qm = t.get("query_mask")
        dm = t.get("doc_mask")
        module = types.SimpleNamespace(
            loss_functions=[(lf, 1.0)],
            model=types.SimpleNamespace(score=dot_score),
            config=types.SimpleNamespace(sparsification_strategy=None),
            _get_ib_doc_embeddings=lambda *a: BiEncoderModule._get_ib_doc_embeddings(None, *a),
        )
        output = BiEncoderOutput(
            scores=scores,
            query_embeddings=BiEncoderEmbedding(qe3, None if qm is None else qm.bool()),
            doc_embeddings=BiEncoderEmbedding(de3, None if dm is None else dm.bool()),
        )
        (loss,) = BiEncoderModule._compute_losses(module, batch_of(q, d, t["targets"]), output)
    else:
        module = types.SimpleNamespace(loss_functions=[(lf, 1.0)])
        (loss,) = CrossEncoderModule._compute_losses(module, batch_of(q, d, t["targets"]), LightningIROutput(scores))
    return loss


@contextlib.contextmanager
def identity_randperm(on):
    if not on:
        yield
        return
    orig = torch.randperm
    torch.randperm = lambda n, *a, **kw: torch.arange(n)
    try:
        yield
    finally:
        torch.randperm = orig


def compute(case):
    t = {}
    for key in ("scores", "targets", "query_embeddings", "doc_embeddings", "query_mask", "doc_mask"):
        if key in case:
            t[key] = torch.tensor(case[key], dtype=torch.float64).view(case[key + "_shape"])
    leaves = [k for k in ("scores", "query_embeddings", "doc_embeddings") if k in t]
    for k in leaves:
        t[k].requires_grad_(True)
    name = case["loss"]
    if name in XPMIR:
        fn = XPMIR[name](**case.get("options", {}))
        targets = t["targets"].view(case["q"], case["d"], -1).amax(-1)
        loss = fn(t["scores"], targets)
    else:
        lf = make_lir(name, case.get("params", {}), case.get("options", {}))
        with identity_randperm(case.get("identity_perm", False)):
            loss = run_lir(lf, case, t)
    if torch.isnan(loss):
        case["undefined"] = True
        return
    loss.backward()
    case["value"] = loss.item()
    for k in leaves:
        if t[k].grad is not None:
            case["grad_" + k] = t[k].grad.flatten().tolist()


# ---- cases ----


def f32(x):
    return x.float().double()


class Gen:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)

    def randn(self, *shape):
        return f32(torch.randn(*shape, generator=self.g))

    def scores(self, q, d, kind):
        x = self.randn(q, d)
        if kind == "ties":  # halves: many exact ties
            x = torch.round(x * 2) / 2
        if kind == "positive":  # probabilities
            x = f32(torch.rand(q, d, generator=self.g) * 0.9 + 0.05)
        return x

    def targets(self, q, d, kind):
        if kind == "order":  # TupleDataset order targets: 1 for the first doc
            t = torch.zeros(q, d)
            t[:, 0] = 1
            return t
        if kind == "graded":  # relevance 0..3, ties
            return torch.randint(0, 4, (q, d), generator=self.g).double()
        if kind == "binary":
            return torch.randint(0, 2, (q, d), generator=self.g).double()
        if kind == "score":  # teacher scores, some negative
            return self.randn(q, d) * 2
        if kind == "iterations":  # [Q, D, 2] qrel iterations
            return torch.randint(0, 4, (q, d, 2), generator=self.g).double()
        raise ValueError(kind)

    def embeddings(self, n, length, dim, sparse):
        x = self.randn(n, length, dim) if length else self.randn(n, dim)
        if sparse:  # SPLADE-like: non-negative with exact zeros
            x = torch.relu(x)
        if length:
            x[0, -1] = 0  # a zero vector (padding): the norm's gradient at 0
        return x


def add(cases, gen, loss, q, d, skind, tkind, params=None, options=None, **extra):
    c = {"loss": loss, "q": q, "d": d, "params": params or {}, "options": options or {}}
    s = gen.scores(q, d, skind)
    t = gen.targets(q, d, tkind)
    c["name"] = f"{loss}/Q{q}D{d}/{skind}-scores/{tkind}-targets" + "".join(
        f"/{k}={v}" for k, v in sorted({**c["params"], **c["options"]}.items())
    )
    c["scores"], c["scores_shape"] = s.flatten().tolist(), list(s.shape)
    c["targets"], c["targets_shape"] = t.flatten().tolist(), list(t.shape)
    c.update(extra)
    cases.append(c)
    return c


def set_emb(c, gen, length, dim, sparse):
    q, d = c["q"], c["d"]
    for key, n, ln in (("query", q, length), ("doc", q * d, length + 2 if length else 0)):
        e = gen.embeddings(n, ln, dim, sparse)
        c[key + "_embeddings"], c[key + "_embeddings_shape"] = e.flatten().tolist(), list(e.shape)
        if ln:
            lens = torch.randint(1, ln + 1, (n,), generator=gen.g)
            lens[0] = ln - 1  # padding on row 0 (whose last vector is zero)
            m = (torch.arange(ln)[None] < lens[:, None]).double()
            c[key + "_mask"], c[key + "_mask_shape"] = m.flatten().tolist(), list(m.shape)
    c["name"] += f"/{'token' if length else 'pooled'}{'-sparse' if sparse else ''}"


def build(seed):
    gen = Gen(seed)
    cases = []
    Q = 3
    scoring = {
        "RankNet": [{}, {"temperature": 0.5}],
        "ConstantMarginMSE": [{}, {"margin": 0.3}],
        "SupervisedMarginMSE": [{}],
        "KLDivergence": [{}],
        "InfoNCE": [{}],
        "PearsonCorrelation": [{}],
        "ApproxNDCG": [{}, {"temperature": 0.7}],
        "ApproxMRR": [{}, {"temperature": 2.0}],
        "ApproxRankMSE": [{}, {"temperature": 0.5}],
        "DistillRankNet": [{}],
        "ADR-MSE": [{}],
        "ListwiseSoftmaxCrossEntropy": [{}],
    }
    option_sets = {
        "ApproxNDCG": [{}, {"scale_gains": "false"}],
        "ApproxRankMSE": [{}, {"discount": "log2"}, {"discount": "reciprocal"}],
        "ListwiseSoftmaxCrossEntropy": [{}, {"output_type": "log_probability"}, {"output_type": "probability"}],
    }
    for loss, psets in scoring.items():
        for d in (1, 2, 8):
            for tk in ("order", "graded", "score", "iterations"):
                for sk in ("random", "ties"):
                    for p in psets:
                        for o in option_sets.get(loss, [{}]):
                            if sk == "ties" and (p or o):
                                continue
                            if o.get("output_type") == "probability":
                                sk2 = "positive"
                            else:
                                sk2 = sk
                            add(cases, gen, loss, Q, d, sk2, tk, p, o)
    # 0/1 relevance (xpmir's binary labels) with several positives
    for loss in ("ListwiseSoftmaxCrossEntropy", "InfoNCE", "ApproxMRR"):
        add(cases, gen, loss, Q, 8, "random", "binary")

    for loss in ("FLOPSRegularization", "L1Regularization", "L2Regularization"):
        for d in (1, 2, 8):
            for length, sparse in ((0, False), (0, True), (4, False), (4, True)):
                p = {} if d != 2 else {"query_weight": 0.3, "doc_weight": 0.05}
                c = add(cases, gen, loss, Q, d, "random", "order", p)
                set_emb(c, gen, length, 5, sparse)

    for d in (1, 2, 8):
        for q in (1, Q):
            for pos, neg in (("all", "all"), ("first", "all"), ("all", "first"), ("first", "first"), ("first", "all_and_non_first")):
                c = add(cases, gen, "InBatchCrossEntropy", q, d, "random", "order", {},
                        {"pos_sampling_technique": pos, "neg_sampling_technique": neg})
                set_emb(c, gen, 0, 4, False)
            # max_num_neg_samples: enough to keep every negative (torch's
            # shuffle only reorders them), and fewer with the identity shuffle
            c = add(cases, gen, "InBatchCrossEntropy", q, d, "random", "order", {"max_num_neg_samples": 100})
            set_emb(c, gen, 0, 4, False)
            c = add(cases, gen, "InBatchCrossEntropy", q, d, "random", "order", {"max_num_neg_samples": 2},
                    identity_perm=True)
            c["name"] += "/identity-perm"
            set_emb(c, gen, 0, 4, False)
        # score-based: order targets give every query the same number of
        # negatives (no random dropping); graded targets with the identity
        # shuffle exercise the dropping.
        for tk, diff, ident in (("order", 0.5, False), ("graded", 1.0, True), ("score", 0.5, True),
                                ("iterations", 2.0, True), ("graded", 0.0, True)):
            for extra in ({}, {"max_num_neg_samples": 3}):
                if extra and not ident:
                    continue
                c = add(cases, gen, "ScoreBasedInBatchCrossEntropy", Q, d, "random", tk,
                        {"min_target_diff": diff, **extra}, identity_perm=ident)
                if ident:
                    c["name"] += "/identity-perm"
                set_emb(c, gen, 0, 4, False)
        c = add(cases, gen, "ScoreBasedInBatchCrossEntropy", Q, d, "ties", "order",
                {"min_target_diff": 0.5, "max_num_neg_samples": 1000})
        set_emb(c, gen, 0, 4, False)
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="train/loss/testdata/losses.json")
    ap.add_argument("--seed", type=int, default=20240917)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    cases = build(a.seed)
    for c in cases:
        compute(c)
    names = [c["name"] for c in cases]
    assert len(set(names)) == len(names), "case names must be unique"
    doc = {
        "generator": "scripts/oracle/train/losses.py --seed %d" % a.seed,
        "versions": {"torch": torch.__version__, "lightning-ir": version("lightning-ir")},
        "dtype": "float64 (inputs float32-representable)",
        "cases": cases,
    }
    with open(a.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {sum(bool(c.get('undefined')) for c in cases)} undefined -> {a.out}")


if __name__ == "__main__":
    main()
