// Fused SPLADE pooling: the MLM decoder, sparsification and pooling over
// tokens in one pass, without the batch x length x vocabulary logits.
//
//   logit[b,t,v] = H[b,t,:] . W[v,:] + bias[v]
//   max: out[b,v] = sparsify(max over unmasked t of logit[b,t,v])
//        (sparsification is monotone, so it commutes with the max; no
//        unmasked token leaves -inf, which sparsifies to 0)
//   sum: out[b,v] = sum over unmasked t of sparsify(logit[b,t,v])
//
// A token t of sequence b is unmasked when mask[b,t] != 0 (the attention
// mask, as models/heads.Pool reads it).
//
// One thread block owns a tile of SP_TV vocabulary entries of one sequence
// and walks that sequence's tokens SP_TT at a time: each step is a small
// SGEMM (SP_TV x SP_TT, over the hidden size in SP_TK slices through shared
// memory) whose results are folded into a running max or sum per vocabulary
// entry at once. Each thread holds SP_RV x SP_RT logits; vocabulary entry
// v0 + tx + 16*i and token t0 + ty + 16*j, so the shared-memory reads of a
// warp are consecutive. At the end the 16 partial results per entry
// (one per ty) are combined through shared memory.
//
// The dot products are sequential fp32 fused multiply-adds over the hidden
// size in order (backends/kernels.PoolReference mirrors this).

#define SP_TV 128 // vocabulary entries per block
#define SP_TT 64  // tokens per step
#define SP_TK 16  // hidden-size slice per shared-memory load
#define SP_RV (SP_TV / 16)
#define SP_RT (SP_TT / 16)

// Sparsification codes (backends/kernels.Sparsification).
#define SPARSIFY_NONE 0
#define SPARSIFY_RELU 1
#define SPARSIFY_RELU_LOG 2
#define SPARSIFY_RELU_2XLOG 3

__device__ __forceinline__ float sparsify(float x, int how) {
  if (how == SPARSIFY_NONE) return x;
  x = fmaxf(x, 0.0f);
  if (how >= SPARSIFY_RELU_LOG) x = log1pf(x);
  if (how == SPARSIFY_RELU_2XLOG) x = log1pf(x);
  return x;
}

// splade_pool: H [B, L, D], W [V, D], bias [V] (may be null), mask [B, L]
// int64, out [B, V]; all contiguous fp32 except mask. Grid (ceil(V/SP_TV), B),
// block (16, 16). pool_sum selects sum pooling (else max).
extern "C" __global__ void __launch_bounds__(256)
splade_pool(const float *__restrict__ H, const float *__restrict__ W,
            const float *__restrict__ bias, const long long *__restrict__ mask,
            float *__restrict__ out, int L, int D, int V, int pool_sum,
            int how) {
  __shared__ float Ws[SP_TK][SP_TV + 1];
  __shared__ float Hs[SP_TK][SP_TT + 1];
  __shared__ float red[16][SP_TV + 1];

  const int tx = threadIdx.x, ty = threadIdx.y;
  const int tid = ty * 16 + tx;
  const int b = blockIdx.y;
  const int v0 = blockIdx.x * SP_TV;
  const float *Hb = H + (long long)b * L * D;
  const long long *mb = mask + (long long)b * L;

  float bv[SP_RV];
  float run[SP_RV];
#pragma unroll
  for (int i = 0; i < SP_RV; i++) {
    int v = v0 + tx + 16 * i;
    bv[i] = (bias != 0 && v < V) ? bias[v] : 0.0f;
    run[i] = pool_sum ? 0.0f : -__int_as_float(0x7f800000); // -inf
  }

  for (int t0 = 0; t0 < L; t0 += SP_TT) {
    float acc[SP_RV][SP_RT];
#pragma unroll
    for (int i = 0; i < SP_RV; i++)
#pragma unroll
      for (int j = 0; j < SP_RT; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < D; k0 += SP_TK) {
      // W tile: SP_TV rows x SP_TK columns, 16 consecutive floats per row.
#pragma unroll
      for (int r = 0; r < SP_TV * SP_TK / 256; r++) {
        int idx = tid + 256 * r;
        int vl = idx / SP_TK, kl = idx % SP_TK;
        int v = v0 + vl, k = k0 + kl;
        Ws[kl][vl] = (v < V && k < D) ? W[(long long)v * D + k] : 0.0f;
      }
#pragma unroll
      for (int r = 0; r < SP_TT * SP_TK / 256; r++) {
        int idx = tid + 256 * r;
        int tl = idx / SP_TK, kl = idx % SP_TK;
        int t = t0 + tl, k = k0 + kl;
        Hs[kl][tl] = (t < L && k < D) ? Hb[(long long)t * D + k] : 0.0f;
      }
      __syncthreads();
      // Only the first D - k0 slices hold data; stopping there keeps the
      // fma chain identical to a plain loop over the hidden size.
      int kn = min(SP_TK, D - k0);
      for (int kl = 0; kl < kn; kl++) {
        float a[SP_RV], h[SP_RT];
#pragma unroll
        for (int i = 0; i < SP_RV; i++) a[i] = Ws[kl][tx + 16 * i];
#pragma unroll
        for (int j = 0; j < SP_RT; j++) h[j] = Hs[kl][ty + 16 * j];
#pragma unroll
        for (int i = 0; i < SP_RV; i++)
#pragma unroll
          for (int j = 0; j < SP_RT; j++) acc[i][j] = fmaf(a[i], h[j], acc[i][j]);
      }
      __syncthreads();
    }

#pragma unroll
    for (int j = 0; j < SP_RT; j++) {
      int t = t0 + ty + 16 * j;
      if (t >= L || mb[t] == 0) continue;
#pragma unroll
      for (int i = 0; i < SP_RV; i++) {
        float x = acc[i][j] + bv[i];
        if (pool_sum)
          run[i] += sparsify(x, how);
        else
          run[i] = fmaxf(run[i], x);
      }
    }
  }

  // Combine the 16 partial results of each vocabulary entry (one per ty),
  // in ty order.
#pragma unroll
  for (int i = 0; i < SP_RV; i++) red[ty][tx + 16 * i] = run[i];
  __syncthreads();
  if (tid < SP_TV) {
    int v = v0 + tid;
    float r = red[0][tid];
    for (int y = 1; y < 16; y++) r = pool_sum ? r + red[y][tid] : fmaxf(r, red[y][tid]);
    if (v < V) out[(long long)b * V + v] = pool_sum ? r : sparsify(r, how);
  }
}
