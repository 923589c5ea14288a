// Running top-k over blocks of scores, for exact dense search without the
// queries x documents score matrix: the caller scores one block of
// documents at a time (a matmul into a queries x block buffer) and this
// kernel folds the block into each query's top k.
//
// Order: higher score first, then the smaller document number (as
// search/dense and search/internal/topk order hits). NaN scores are
// skipped. Each query's state is its best min(k, seen) entries, sorted.
//
// One thread block per query. The block's scores are read TK_CHUNK at a
// time; a score enters the candidate buffer only when the state is not yet
// full or it beats the state's worst entry (the threshold filter: after
// the first blocks almost nothing passes). When some did, the candidates
// are bitonic-sorted in shared memory and merged with the (sorted) state,
// keeping the best k. backends/kernels.TopKReference runs the same steps in
// Go (with one sort: the result depends only on the order).

#define TK_MAX_K 1024
#define TK_CHUNK 1024
#define TK_CAP (TK_MAX_K + TK_CHUNK) // kept entries + one chunk's candidates

// better reports whether (va, ia) ranks before (vb, ib).
__device__ __forceinline__ bool better(float va, long long ia, float vb, long long ib) {
  return va > vb || (va == vb && ia < ib);
}

// topk_merge: scores [nq, ld] (row q's first nb columns are this block's,
// documents first_doc .. first_doc+nb-1), state vals [nq, k], ids [nq, k]
// int64, count [nq] int32. Grid nq, block TK_CHUNK threads.
extern "C" __global__ void __launch_bounds__(TK_CHUNK)
topk_merge(const float *__restrict__ scores, long long ld, int nb, long long first_doc,
           float *__restrict__ vals, long long *__restrict__ ids, int *__restrict__ count, int k) {
  __shared__ float sv[TK_CAP];
  __shared__ long long si[TK_CAP];
  __shared__ float mv[TK_MAX_K]; // the merge's output
  __shared__ long long mi[TK_MAX_K];
  __shared__ int fill;

  const int q = blockIdx.x, tid = threadIdx.x;
  const float *row = scores + (long long)q * ld;
  int n = count[q];
  for (int i = tid; i < n; i += blockDim.x) {
    sv[i] = vals[(long long)q * k + i];
    si[i] = ids[(long long)q * k + i];
  }

  for (int c0 = 0; c0 < nb; c0 += TK_CHUNK) {
    if (tid == 0) fill = n;
    __syncthreads();
    // The threshold: the worst kept entry once k are kept.
    bool full = n == k;
    float wv = full ? sv[k - 1] : 0.0f;
    long long wi = full ? si[k - 1] : 0;
    int j = c0 + tid;
    if (j < nb) {
      float v = row[j];
      long long id = first_doc + j;
      if (v == v && (!full || better(v, id, wv, wi))) {
        int p = atomicAdd(&fill, 1);
        sv[p] = v;
        si[p] = id;
      }
    }
    __syncthreads();
    int m = fill;
    if (m > n) {
      // Sort the c = m - n candidates (a power-of-two run at n, padded
      // with entries that rank after every real one), best first.
      int c = m - n, P = 1;
      while (P < c) P <<= 1;
      float *cv = sv + n;
      long long *ci = si + n;
      for (int i = c + tid; i < P; i += blockDim.x) {
        cv[i] = -__int_as_float(0x7f800000);
        ci[i] = 0x7fffffffffffffffLL;
      }
      __syncthreads();
      for (int size = 2; size <= P; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
          for (int i = tid; i < P; i += blockDim.x) {
            int p = i ^ stride;
            if (p > i) {
              bool up = (i & size) == 0; // this pair's run sorts best first
              bool swap = up ? better(cv[p], ci[p], cv[i], ci[i]) : better(cv[i], ci[i], cv[p], ci[p]);
              if (swap) {
                float tv = cv[i];
                cv[i] = cv[p];
                cv[p] = tv;
                long long ti = ci[i];
                ci[i] = ci[p];
                ci[p] = ti;
              }
            }
          }
          __syncthreads();
        }
      }
      // Merge the kept entries sv[0, n) and the candidates, both sorted,
      // keeping the best k: output r takes a of its r predecessors from
      // the kept entries (found by binary search: the merge path).
      int keep = min(m, k);
      for (int r = tid; r < keep; r += blockDim.x) {
        int lo = max(0, r - c), hi = min(r, n);
        while (lo < hi) {
          int mid = (lo + hi) >> 1;
          if (better(sv[mid], si[mid], cv[r - 1 - mid], ci[r - 1 - mid]))
            lo = mid + 1;
          else
            hi = mid;
        }
        int a = lo, b = r - lo;
        bool fromKept = a < n && (b >= c || better(sv[a], si[a], cv[b], ci[b]));
        mv[r] = fromKept ? sv[a] : cv[b];
        mi[r] = fromKept ? si[a] : ci[b];
      }
      __syncthreads();
      for (int r = tid; r < keep; r += blockDim.x) {
        sv[r] = mv[r];
        si[r] = mi[r];
      }
      n = keep;
    }
    __syncthreads();
  }

  for (int i = tid; i < n; i += blockDim.x) {
    vals[(long long)q * k + i] = sv[i];
    ids[(long long)q * k + i] = si[i];
  }
  if (tid == 0) count[q] = n;
}
