# Builds tiny random BERT, ELECTRA and DistilBERT models with transformers,
# saved in several weight formats, with MiniLM's tokenizer files; and tiny
# random RoBERTa, XLM-RoBERTa and ModernBERT masked-LM models with
# byte-level BPE tokenizers trained here on the first 3,000 documents of
# DOCS_TSV.
# usage: make_tiny.py OUT_DIR MINILM_DIR DOCS_TSV
import os, shutil, sys

import torch
from tokenizers import (AddedToken, Tokenizer, decoders, models as tok_models, normalizers, pre_tokenizers,
                        processors, trainers)
from transformers import (BertConfig, BertForMaskedLM, DistilBertConfig, DistilBertForMaskedLM,
                          ElectraConfig, ElectraModel, ModernBertConfig, ModernBertForMaskedLM,
                          PreTrainedTokenizerFast, RobertaConfig, RobertaForMaskedLM, RobertaTokenizerFast,
                          XLMRobertaConfig, XLMRobertaForMaskedLM)

out, minilm, docs_tsv = sys.argv[1], sys.argv[2], sys.argv[3]
torch.manual_seed(1234)
V = 30522
models = {
    "bert": BertForMaskedLM(BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                       intermediate_size=37, layer_norm_eps=1e-12, hidden_act="gelu")),
    "electra": ElectraModel(ElectraConfig(vocab_size=V, embedding_size=16, hidden_size=32, num_hidden_layers=2,
                                          num_attention_heads=4, intermediate_size=37, layer_norm_eps=1e-7)),
    "distilbert": DistilBertForMaskedLM(DistilBertConfig(vocab_size=V, dim=32, n_layers=2, n_heads=4, hidden_dim=37)),
}
tok_files = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]


def perturb(model):
    # Perturb every parameter so that LayerNorm weights, biases and the like
    # are not at their initial 1/0 values: a loader that skips one shows.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval()


for name, model in models.items():
    perturb(model)
    variants = {
        name: dict(dtype=torch.float32, safe=True),
        name + "-bin": dict(dtype=torch.float32, safe=False),
        name + "-fp16": dict(dtype=torch.float16, safe=True),
        name + "-bf16-bin": dict(dtype=torch.bfloat16, safe=False),
    }
    for vname, v in variants.items():
        d = os.path.join(out, vname)
        m = model.to(v["dtype"])
        m.save_pretrained(d, safe_serialization=v["safe"])
        model.to(torch.float32)
        for f in tok_files:
            shutil.copy(os.path.join(minilm, f), d)

# RoBERTa's tokenizer: byte-level BPE, <s> <pad> </s> <unk> at ids 0-3,
# <mask> (lstrip) last, RobertaProcessing (<s> A </s></s> B </s>).
texts = []
with open(docs_tsv, encoding="utf-8") as f:
    for line in f:
        texts.append(line.rstrip("\n").split("\t", 1)[-1])
        if len(texts) == 3000:
            break
bpe = Tokenizer(tok_models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(texts, trainers.BpeTrainer(
    vocab_size=2000, min_frequency=2, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
bpe.add_special_tokens([AddedToken("<mask>", lstrip=True, normalized=False)])
bpe.post_processor = processors.RobertaProcessing(("</s>", bpe.token_to_id("</s>")), ("<s>", bpe.token_to_id("<s>")))
rtok = RobertaTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                            cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                            model_max_length=512)
assert rtok.pad_token_id == 1 and rtok.cls_token_id == 0, (rtok.pad_token_id, rtok.cls_token_id)

# RoBERTa's layout: positions from padding_idx + 1 (514 rows for 512
# tokens), one token type, LayerNorm eps 1e-5. Both saved as masked-LM
# task models (roberta.* keys plus lm_head.*).
rv = len(rtok)
common = dict(vocab_size=rv, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
              max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
              layer_norm_eps=1e-5)
for name, model in {
    "roberta": RobertaForMaskedLM(RobertaConfig(**common)),
    "xlm-roberta": XLMRobertaForMaskedLM(XLMRobertaConfig(**common)),
}.items():
    perturb(model)
    d = os.path.join(out, name)
    model.save_pretrained(d, safe_serialization=True)
    rtok.save_pretrained(d)

# ModernBERT's tokenizer: NFC + byte-level BPE, [UNK] [CLS] [SEP] [PAD] at
# ids 0-3, [MASK] (lstrip) last, [CLS] $A [SEP] / [CLS] $A [SEP] $B [SEP],
# no token type ids given to the model.
mb = Tokenizer(tok_models.BPE())
mb.normalizer = normalizers.NFC()
mb.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
mb.decoder = decoders.ByteLevel()
mb.train_from_iterator(texts, trainers.BpeTrainer(
    vocab_size=2000, min_frequency=2, special_tokens=["[UNK]", "[CLS]", "[SEP]", "[PAD]"],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
mb.add_special_tokens([AddedToken("[MASK]", lstrip=True, normalized=False)])
mb.post_processor = processors.TemplateProcessing(
    single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
    special_tokens=[("[CLS]", mb.token_to_id("[CLS]")), ("[SEP]", mb.token_to_id("[SEP]"))])
mtok = PreTrainedTokenizerFast(tokenizer_object=mb, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                               pad_token="[PAD]", mask_token="[MASK]", model_max_length=512,
                               model_input_names=["input_ids", "attention_mask"])

# ModernBERT: 3 layers with global attention in layers 0 and 2 and a local
# window of 16 (8 either side) in layer 1, so 64-token inputs exercise
# both; without biases (as released) and with every bias.
mcommon = dict(vocab_size=len(mtok), hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=37,
               max_position_embeddings=512, global_attn_every_n_layers=2, local_attention=16,
               pad_token_id=mtok.pad_token_id, bos_token_id=mtok.cls_token_id, eos_token_id=mtok.sep_token_id,
               cls_token_id=mtok.cls_token_id, sep_token_id=mtok.sep_token_id)
for name, extra in {"modernbert": {}, "modernbert-bias": dict(norm_bias=True, attention_bias=True, mlp_bias=True,
                                                              classifier_bias=True)}.items():
    model = ModernBertForMaskedLM(ModernBertConfig(**mcommon, **extra))
    perturb(model)
    d = os.path.join(out, name)
    model.save_pretrained(d, safe_serialization=True)
    mtok.save_pretrained(d)
