# Describes every tensor of one or more model directories as PyTorch reads
# them: {dir: {name: {"shape", "dtype", "head": first 64 values as float32,
# "sum": float64 sum}}}.
# usage: tensors.py MODEL_DIR...
import json, os, sys

import torch
from safetensors.torch import load_file

out = {}
for d in sys.argv[1:]:
    if os.path.exists(os.path.join(d, "model.safetensors")):
        sd = load_file(os.path.join(d, "model.safetensors"))
    else:
        sd = torch.load(os.path.join(d, "pytorch_model.bin"), map_location="cpu")
    out[d] = {}
    for name, t in sd.items():
        out[d][name] = {
            "shape": list(t.shape),
            "dtype": str(t.dtype).replace("torch.", ""),
            "head": t.detach().flatten()[:64].to(torch.float32).tolist(),
            "sum": float(t.detach().to(torch.float64).sum()),
        }
print(json.dumps(out))
