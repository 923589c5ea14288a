// Package hf reads and writes model directories in the Hugging Face layout
// without Python or libtorch: config.json, safetensors (read and write) and
// pytorch_model.bin (torch's zip+pickle format), and it fetches model files
// from a hub that follows Hugging Face's URL layout into a local cache that
// Python's huggingface_hub can share.
//
// Every floating-point tensor is converted to float32 on load (fp32, fp16
// and bf16 sources), because irflow's inference runs in fp32; integer
// buffers (position_ids) are kept as int64. Errors name the file, and the
// tensor where there is one.
package hf
