"""Writes models/tokenizer/testdata/t5-precompiled/tokenizer.json: a real
SentencePiece Unigram model (normalizer nmt_nfkc, so its tokenizer.json
carries sentencepiece's Precompiled charsmap, as t5-base, mT5 and XLM-R do),
trained offline by `sentencepiece` on testdata/unicode.txt plus the SciFact
documents, and converted by transformers' T5 converter
(convert_slow_tokenizer), exactly as the hub's T5 tokenizer.json files were.
Usage: .cache/venv-torch/bin/python scripts/oracle/tokenizer/make_precompiled_fixture.py
(written with sentencepiece 0.2.3, transformers 4.57.6, tokenizers 0.22.2)."""
import io
import os
import tempfile

import sentencepiece as spm
from transformers import T5Tokenizer
from transformers.convert_slow_tokenizer import convert_slow_tokenizer

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "..", "..", "..")
td = os.path.join(root, "models", "tokenizer", "testdata")
lines = open(os.path.join(td, "unicode.txt"), encoding="utf-8").read().splitlines() * 3
docs = os.path.join(root, "..", "shared", "data", "scifact", "docs.tsv")
with open(docs, encoding="utf-8", errors="replace") as f:
    for i, line in enumerate(f):
        if i % 8 == 0:
            lines.append(line.rstrip("\n").split("\t")[-1])
with tempfile.TemporaryDirectory() as tmp:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=2000,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc",
                                   character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   minloglevel=2)
    path = os.path.join(tmp, "spiece.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    tk = convert_slow_tokenizer(T5Tokenizer(path, extra_ids=0, legacy=True))
    out = os.path.join(td, "t5-precompiled")
    os.makedirs(out, exist_ok=True)
    tk.save(os.path.join(out, "tokenizer.json"), pretty=False)
