# Training-step oracle for Lightning IR v0.0.6 Set-Encoders, MVR, COIL and UniCOIL: runs
# scripts/oracle/train/steps.py's "train" mode (same tiny backbone, batches,
# listwise cross-entropy, clipping, AdamW, schedule, dumps) with the
# set-encoder, mvr, coil and unicoil added to its model kinds. A set-encoder is scored as
# its cross-encoders are (tok.tokenize(..., num_docs=[D] * Q) then
# model(encoding), which is what Lightning IR's CrossEncoderModule.forward
# does in training), MVR as its bi-encoders are (MvrTokenizer adds the
# [VIE] tokens; steps.py resizes the embeddings for them), COIL and UniCOIL
# too (UniCOIL's vocabulary scatter is UniCoilModel.encode's own
# torch.scatter), their fresh cls_projection and token_projection given
# N(0, scale) noise (the case's "scale", default 0.3) in "train" mode as
# steps.py gives the other heads' projections.
# The stand-ins for missing candidates: Lightning IR draws them with
# torch.normal(mean, std), whose derivative is zero for mean and std. Here
# the value is mean + std * z with z the first (depth - D) * hidden values of
# the spec's "noise" block of the layer (row-major draws, the same for every
# query of a layer, as irflow's heads.SetEncoderNoise), and the gradient is still
# torch.normal's own: torch.normal(mean, 0) + (std * z).detach().
# usage: lir_zoo_train.py <dir of steps.py> [train|check] < steps.py's spec + "noise"
# prints steps.py's output for that mode (check: loads directories irflow saved).
import json, sys, warnings

warnings.filterwarnings("ignore")
import torch

sys.path.insert(0, sys.argv[1])
import steps  # noqa: E402
from lightning_ir.bi_encoder import BiEncoderTokenizer  # noqa: E402
from lightning_ir.models import CoilConfig, CoilModel, MvrConfig, MvrModel, MvrTokenizer, SetEncoderConfig, SetEncoderModel, SetEncoderTokenizer, UniCoilConfig, UniCoilModel  # noqa: E402

spec = json.load(sys.stdin)
noise = spec.pop("noise")
layers = len(noise)
calls = [0]
real_normal = torch.normal


def normal(mean, std, *args, **kwargs):
    layer = (calls[0] - 1) % layers  # cat_other_doc_hidden_states runs once per layer and forward
    z = torch.tensor(noise[layer][: mean.numel()], dtype=mean.dtype).view(mean.shape)
    return real_normal(mean, torch.zeros_like(std)) + (std * z).detach()


torch.normal = normal
cat = SetEncoderModel.cat_other_doc_hidden_states


def counted(self, hidden_states, num_docs):
    calls[0] += 1
    return cat(self, hidden_states, num_docs)


SetEncoderModel.cat_other_doc_hidden_states = counted
steps.KINDS["set-encoder"] = (SetEncoderConfig, SetEncoderModel, SetEncoderTokenizer)
steps.KINDS["mvr"] = (MvrConfig, MvrModel, MvrTokenizer)
mode = sys.argv[2] if len(sys.argv) > 2 else "train"


# steps.train builds the cases in order, so the k-th noisy model is the k-th
# coil or unicoil case.
noisy_cases = [c for c in spec.get("cases", []) if c["arch"] in ("coil", "unicoil")]


def noisy(Model):
    class Noisy:
        @staticmethod
        def from_pretrained(*args, **kwargs):
            model = Model.from_pretrained(*args, **kwargs)
            if mode == "train":
                scale = noisy_cases.pop(0).get("scale", 0.3)
                with torch.no_grad():
                    for n, p in model.named_parameters():
                        if n.split(".")[0] in ("cls_projection", "token_projection"):
                            p.add_(torch.randn_like(p) * scale)
            return model

    return Noisy


steps.KINDS["coil"] = (CoilConfig, noisy(CoilModel), BiEncoderTokenizer)
steps.KINDS["unicoil"] = (UniCoilConfig, noisy(UniCoilModel), BiEncoderTokenizer)
scores_of = steps.scores_of
steps.scores_of = lambda model, tok, arch, q, d: scores_of(model, tok, "mono" if arch == "set-encoder" else arch, q, d)
print(json.dumps(steps.train(spec) if mode == "train" else steps.check(spec)))
