// Runs backends/kernels' CUDA C on the CPU, for emulate_test.go: each CUDA
// thread of a block is an OS thread, __syncthreads is a barrier, blocks
// run one after another (so __shared__ can be static), launches in order.
// It checks the kernels' indexing and synchronisation without a GPU; the
// arithmetic is the host's (fmaf, log1pf), not the GPU's.
//
// Usage: emulate splade IN OUT | emulate topk IN OUT, with little-endian
// binary files as emulate_test.go writes them.
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

struct dim3 { unsigned x = 1, y = 1, z = 1; };
static thread_local dim3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;
static std::barrier<> *sync_barrier;

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define __launch_bounds__(n)
static inline void __syncthreads() { sync_barrier->arrive_and_wait(); }
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline int atomicAdd(int *p, int v) { return std::atomic_ref<int>(*p).fetch_add(v); }
using std::max;
using std::min;

#include "../splade.cu"
#include "../topk.cu"

// run calls body(block) for every block of every launch with block threads
// each, blocks one after another.
static void run(dim3 block, int launches, const std::function<dim3(int)> &grid,
                const std::function<void(int)> &body) {
  int n = block.x * block.y * block.z;
  blockDim = block;
  std::barrier<> bar(n);
  sync_barrier = &bar;
  std::vector<std::thread> ts;
  for (int t = 0; t < n; t++) {
    ts.emplace_back([&, t] {
      threadIdx.x = t % block.x;
      threadIdx.y = t / block.x % block.y;
      threadIdx.z = t / (block.x * block.y);
      for (int l = 0; l < launches; l++) {
        dim3 g = grid(l);
        if (t == 0) gridDim = g;
        for (unsigned z = 0; z < g.z; z++)
          for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
              blockIdx.x = x, blockIdx.y = y, blockIdx.z = z;
              body(l);
              bar.arrive_and_wait(); // the block is done before the next starts
            }
      }
    });
  }
  for (auto &t : ts) t.join();
}

template <class T> static std::vector<T> readv(FILE *f, size_t n) {
  std::vector<T> v(n);
  if (n && fread(v.data(), sizeof(T), n, f) != n) { fprintf(stderr, "short input\n"); exit(1); }
  return v;
}
static int64_t readi(FILE *f) { return readv<int64_t>(f, 1)[0]; }

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: emulate splade|topk IN OUT\n"); return 2; }
  FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "wb");
  if (!in || !out) { perror("open"); return 1; }
  if (!strcmp(argv[1], "splade")) {
    // B L D V has_bias pool_sum how, then H, W, bias?, mask.
    int B = readi(in), L = readi(in), D = readi(in), V = readi(in);
    int has_bias = readi(in), pool_sum = readi(in), how = readi(in);
    auto H = readv<float>(in, (size_t)B * L * D);
    auto W = readv<float>(in, (size_t)V * D);
    auto bias = readv<float>(in, has_bias ? V : 0);
    auto mask = readv<long long>(in, (size_t)B * L);
    std::vector<float> o((size_t)B * V, NAN);
    run(dim3{16, 16, 1}, 1, [&](int) { return dim3{(unsigned)(V + SP_TV - 1) / SP_TV, (unsigned)B, 1}; },
        [&](int) { splade_pool(H.data(), W.data(), has_bias ? bias.data() : nullptr, mask.data(), o.data(), L, D, V, pool_sum, how); });
    fwrite(o.data(), 4, o.size(), out);
  } else {
    // nq k launches, then per launch: nb first_doc scores[nq*nb].
    int nq = readi(in), k = readi(in), launches = readi(in);
    std::vector<std::vector<float>> sc(launches);
    std::vector<int> nb(launches);
    std::vector<long long> first(launches);
    for (int l = 0; l < launches; l++) {
      nb[l] = readi(in);
      first[l] = readi(in);
      sc[l] = readv<float>(in, (size_t)nq * nb[l]);
    }
    std::vector<float> vals((size_t)nq * k);
    std::vector<long long> ids((size_t)nq * k);
    std::vector<int> count(nq, 0);
    run(dim3{TK_CHUNK, 1, 1}, launches, [&](int) { return dim3{(unsigned)nq, 1, 1}; },
        [&](int l) { topk_merge(sc[l].data(), nb[l], nb[l], first[l], vals.data(), ids.data(), count.data(), k); });
    fwrite(count.data(), 4, count.size(), out);
    fwrite(vals.data(), 4, vals.size(), out);
    fwrite(ids.data(), 8, ids.size(), out);
  }
  fclose(out);
  return 0;
}
