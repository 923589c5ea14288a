# Builds tiny random T5 models with transformers, saved as
# T5ForConditionalGeneration (castorini monoT5's layout: shared.*,
# encoder.*, decoder.*, lm_head.* when untied), with a SentencePiece
# Unigram tokenizer (nmt_nfkc, so tokenizer.json carries the Precompiled
# charsmap, and 100 <extra_id_N> tokens) trained here by sentencepiece on
# the first 3,000 documents of DOCS_TSV and converted by transformers' T5
# converter, as the hub's T5 tokenizer.json files were. The pieces of
# Lightning IR's monoT5 template missing from so small a vocabulary
# ("Query", "▁Document", "▁Relevan") are appended with a low score.
# vocab_size is T5's 32128, so the rows monoT5 (6136, 1176) and RankT5
# (32089) read from the shared embeddings exist.
# usage: make_t5.py OUT_DIR DOCS_TSV
import io, json, os, sys, tempfile

import sentencepiece as spm
import torch
from transformers import T5Config, T5ForConditionalGeneration, T5TokenizerFast, T5Tokenizer
from transformers.convert_slow_tokenizer import convert_slow_tokenizer

out, docs_tsv = sys.argv[1], sys.argv[2]
torch.manual_seed(4321)
texts = []
with open(docs_tsv, encoding="utf-8") as f:
    for line in f:
        texts.append(line.rstrip("\n").split("\t", 1)[-1])
        if len(texts) == 3000:
            break
with tempfile.TemporaryDirectory() as tmp:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_writer=model, vocab_size=2000,
                                   model_type="unigram", normalization_rule_name="nmt_nfkc",
                                   character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   minloglevel=2)
    path = os.path.join(tmp, "spiece.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    tk = convert_slow_tokenizer(T5Tokenizer(path, extra_ids=100, legacy=True))
j = json.loads(tk.to_str())
vocab = j["model"]["vocab"]
have = {p for p, _ in vocab}
for piece in ["▁", "Query", ":", "▁Document", "▁Relevan", "t"]:
    if piece not in have:
        vocab.append([piece, -30.0])
tok_json = os.path.join(out, "tokenizer.json.tmp")
with open(tok_json, "w", encoding="utf-8") as f:
    json.dump(j, f, ensure_ascii=False)
tok = T5TokenizerFast(tokenizer_file=tok_json, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                      extra_ids=0, model_max_length=512)
os.remove(tok_json)
for piece in ["Query", "▁Document", "▁Relevan"]:
    assert tok.convert_tokens_to_ids(piece) != tok.unk_token_id, piece

common = dict(vocab_size=32128, d_model=32, d_kv=12, num_heads=4, d_ff=37, relative_attention_num_buckets=8,
              relative_attention_max_distance=20, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
for name, extra in {
    # t5 v1.0 (monoT5, RankT5): ReLU, tied embeddings.
    "t5": dict(feed_forward_proj="relu", num_layers=2, num_decoder_layers=3, tie_word_embeddings=True),
    # t5 v1.1 / flan: gated GELU (gelu_new), untied lm_head.
    "t5-gated": dict(feed_forward_proj="gated-gelu", num_layers=3, num_decoder_layers=2, tie_word_embeddings=False),
}.items():
    m = T5ForConditionalGeneration(T5Config(**common, **extra))
    with torch.no_grad():
        for p in m.parameters():  # off the initial values, so a skipped tensor shows
            p.add_(torch.randn_like(p) * 0.05)
    m.eval()
    d = os.path.join(out, name)
    m.save_pretrained(d, safe_serialization=True)
    tok.save_pretrained(d)
