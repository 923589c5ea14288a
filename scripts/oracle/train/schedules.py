"""Lightning IR 0.0.6's schedulers, stepped as a Lightning fit steps them, for
the parity test of train/schedule.

  schedules.py > train/schedule/testdata/lightning_ir.json

LR schedulers (LinearLRSchedulerWithLinearWarmup,
ConstantLRSchedulerWithLinearWarmup) wrap a torch optimizer; with
interval="step" Lightning calls scheduler.step() after every optimizer step,
so the update that takes global_step from k to k+1 uses the LR read here
before step k. Generic value schedulers are Lightning callbacks: on_train_start
remembers the attribute's value, on_train_batch_start sets it to
value * lambda(global_step + 1); the value recorded for global_step k is the one
in force while batch k trains. Each case also carries the irflow recipe form
of the same schedule, which the Go test parses.
"""
import json
import sys
import types
import warnings

warnings.filterwarnings("ignore")

import torch  # noqa: E402
from lightning_ir.schedulers import (  # noqa: E402
    ConstantLRSchedulerWithLinearWarmup,
    GenericConstantSchedulerWithLinearWarmup,
    GenericConstantSchedulerWithQuadraticWarmup,
    GenericLinearSchedulerWithLinearWarmup,
    LinearLRSchedulerWithLinearWarmup,
)

STEPS = 50

# recipe form, Lightning IR class, its arguments, max_steps the trainer would pass (or None)
LR_CASES = [
    ("linear(warmup=10)", LinearLRSchedulerWithLinearWarmup, dict(num_warmup_steps=10, num_training_steps=50), 50),
    ("linear(warmup=13, delay=2, final=0.05)", LinearLRSchedulerWithLinearWarmup,
     dict(num_warmup_steps=13, num_training_steps=47, final_value=0.05, num_delay_steps=2), 47),
    ("linear(warmup=5, delay=3, final=0.1, steps=40)", LinearLRSchedulerWithLinearWarmup,
     dict(num_warmup_steps=5, num_training_steps=40, final_value=0.1, num_delay_steps=3), None),
    ("linear(warmup=0, steps=30)", LinearLRSchedulerWithLinearWarmup,
     dict(num_warmup_steps=0, num_training_steps=30), None),
    ("linear_warmup(warmup=7, delay=4)", ConstantLRSchedulerWithLinearWarmup,
     dict(num_warmup_steps=7, num_delay_steps=4), None),
    ("linear_warmup(warmup=1000)", ConstantLRSchedulerWithLinearWarmup, dict(num_warmup_steps=1000), None),
    ("constant", ConstantLRSchedulerWithLinearWarmup, dict(num_warmup_steps=0), None),
]

VALUE_CASES = [
    ("linear_warmup(warmup=10, delay=5)", GenericConstantSchedulerWithLinearWarmup,
     dict(num_warmup_steps=10, num_delay_steps=5), 1e-3),
    ("quadratic_warmup(warmup=17)", GenericConstantSchedulerWithQuadraticWarmup, dict(num_warmup_steps=17), 0.1),
    ("quadratic_warmup(warmup=0, delay=3)", GenericConstantSchedulerWithQuadraticWarmup,
     dict(num_warmup_steps=0, num_delay_steps=3), 0.3),
    ("linear(warmup=6, delay=2, final=0.2, steps=45)", GenericLinearSchedulerWithLinearWarmup,
     dict(num_warmup_steps=6, num_training_steps=45, final_value=0.2, num_delay_steps=2), 3.0),
    ("constant", GenericConstantSchedulerWithLinearWarmup, dict(num_warmup_steps=0), 5e-4),
]

BASE_LR = 3e-5
out = {"torch": torch.__version__, "steps": STEPS, "base_lr": BASE_LR, "lr": [], "value": []}
for recipe, cls, kwargs, max_steps in LR_CASES:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=BASE_LR)
    sched = cls(opt, **kwargs)
    lrs = []
    for _ in range(STEPS):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    out["lr"].append({"recipe": recipe, "class": cls.__name__, "args": kwargs, "max_steps": max_steps,
                      "factors": [sched.lr_lambdas[0](k) for k in range(STEPS)], "lr": lrs})
for recipe, cls, kwargs, base in VALUE_CASES:
    module = types.SimpleNamespace(weight=base)
    cb = cls(keys=["weight"], **kwargs)
    cb.on_train_start(None, module)
    values = []
    for k in range(STEPS):
        cb.on_train_batch_start(types.SimpleNamespace(global_step=k), module, None, k)
        values.append(module.weight)
    cb.on_train_end(None, module)
    assert module.weight == base
    out["value"].append({"recipe": recipe, "class": cls.__name__, "args": kwargs, "base": base, "values": values})
json.dump(out, sys.stdout, indent=1)
sys.stdout.write("\n")
