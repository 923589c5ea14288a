"""Writes the small tokenizer.json fixtures of models/tokenizer's fuzz and
load tests (models/tokenizer/testdata/{bpe,unigram}-tiny/): a RoBERTa-style
byte-level BPE and a T5-style Unigram with byte fallback, trained by HF
`tokenizers` on testdata/unicode.txt. The parity tests train their own,
larger vocabularies in the oracle run; these only need to be valid files.
Usage: .venv/bin/python scripts/oracle/tokenizer/make_fixtures.py
(written with tokenizers 0.23.3)."""
import json
import os

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

here = os.path.dirname(os.path.abspath(__file__))
td = os.path.join(here, "..", "..", "..", "models", "tokenizer", "testdata")
text = os.path.join(td, "unicode.txt")


def save(tk, name):
    d = os.path.join(td, name)
    os.makedirs(d, exist_ok=True)
    tk.save(os.path.join(d, "tokenizer.json"), pretty=False)


bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train([text], trainers.BpeTrainer(vocab_size=400, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
bpe.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False)])
bpe.post_processor = processors.RobertaProcessing(("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")))
save(bpe, "bpe-tiny")

uni = Tokenizer(models.Unigram())
uni.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
uni.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                             pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")])
uni.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always")
uni.train([text], trainers.UnigramTrainer(vocab_size=1200, unk_token="<unk>", special_tokens=["<pad>", "</s>", "<unk>"],
                                          show_progress=False))
uni.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                   special_tokens=[("</s>", uni.token_to_id("</s>"))])
# Byte fallback as Llama/Gemma-style SentencePiece models have it: the 256
# <0xXX> pieces appended with the lowest score.
j = json.loads(uni.to_str())
low = min(s for _, s in j["model"]["vocab"]) - 1
j["model"]["vocab"] += [["<0x%02X>" % b, low] for b in range(256)]
j["model"]["byte_fallback"] = True
save(Tokenizer.from_str(json.dumps(j)), "unigram-tiny")
