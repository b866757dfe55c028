// CUDA backend. The recursion runs as batch_columns.hpp's team program: a block of
// threads per G prompts, one thread per token column, the prompts' states in
// shared memory. Models wider than the column kernel takes (d + C > 32) run the
// per-prompt functions of batch_kernel.hpp, one thread per prompt. Both are
// compiled with --fmad=false so that, like the host build, a mul+add is fused
// only where the kernel calls fmadd (fmaf / fma here, __builtin_fma on the host):
// with the kernel's fixed order of operations the device gives the CPU backend's
// values bit for bit (tests/gpu/batch_cuda_test; theory/batch_path.md).
//
// CudaPipeline keeps the model and two chunk slots on the device; each slot has its
// stream and pinned host staging, so a chunk's upload, kernel and download overlap
// the other slot's work and the host's. Sampled chunks are drawn on the device by
// gpu/sample_kernel.hpp (the CPU's fast sampler, bit for bit); a prompt the device
// cannot decide is redrawn by the host.
//
// The interval tier (certify_kernel) keeps its workspace interleaved by prompt, 32
// prompts (a warp) per group, so that a warp's reads of one element coalesce
// (gpu/interval_workspace.hpp); its functions get a namespace of their own, as the
// host's levels do (the float kernel keeps batch_default, which the host code
// here shares).
#define ICLCERT_BATCH_ISA_NS batch_default
#define ICLCERT_IV_ISA_NS isa_cuda
#define ICLCERT_IV_INTERLEAVE 32
#include "gpu/batch_backend.hpp"
#include "gpu/batch_columns.hpp"
#include "gpu/sample_kernel.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace iclcert::gpu {
namespace {

std::string describe(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

void check(const char* what, cudaError_t e) {
  if (e != cudaSuccess) throw std::runtime_error(describe(what, e));
}

// Makes this process's device (cuda_device_preference() modulo the count) current
// on the calling thread; every entry point below calls it first.
void use_process_device() {
  int count = 0;
  check("cudaGetDeviceCount", cudaGetDeviceCount(&count));
  if (count < 1) throw std::runtime_error("no CUDA device");
  check("cudaSetDevice", cudaSetDevice(std::max(0, cuda_device_preference()) % count));
}

// ---- kernels

template <class T>
__global__ void prompt_kernel(ModelView<T> m, int count, int N, int d, const T* X, const std::int32_t* labels,
                              const T* probe, const std::int32_t* probe_label, T* workspace, long ws_size,
                              int detail, std::int32_t* predictions, T* margins, LayerRecord<T>* records,
                              T* states) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= count) return;
  const long L1 = m.layers + 1, D = m.d + m.C;
  const T* x = X + static_cast<long>(b) * N * d;
  const std::int32_t* lab = labels + static_cast<long>(b) * N;
  const T* pr = probe + static_cast<long>(b) * d;
  T* ws = workspace + b * ws_size;
  if (detail == 0) {
    predictions[b] = run_prompt_final(m, N, x, lab, pr, probe_label[b], ws, margins + b);
  } else {
    T* st = detail == 2 ? states + b * L1 * (N + 1) * D : nullptr;
    predictions[b] = run_prompt(m, N, x, lab, pr, probe_label[b], ws, records + b * L1, st);
  }
}

template <class T, int MAXD>
struct DeviceTeam {
  T* shared;
  int first;
  ColumnRegs<T, MAXD> regs;
  template <class F>
  __host__ __device__ void each(F&& f) {
#ifdef __CUDA_ARCH__
    f(static_cast<int>(threadIdx.x), regs);
    __syncthreads();
#endif
  }
};

template <class T, int MAXD>
__global__ void team_kernel(TeamArgs<T> a) {
  extern __shared__ __align__(16) unsigned char shared_bytes[];
  DeviceTeam<T, MAXD> team;
  team.shared = reinterpret_cast<T*>(shared_bytes);
  team.first = static_cast<int>(blockIdx.x) * a.lay.G;
  run_team<T, MAXD>(a, team);
}

// Prompts first .. first + count - 1 of the sampler (seed base + k), grid-stride;
// scratch holds sample_prompt_hd_scratch doubles per thread. undecided[i] = 1 when
// the device could not draw prompt i exactly as the CPU would.
template <class T>
__global__ void sample_kernel(std::uint64_t seed, long first, int count, int d, int C, int N, int with_label, T* X,
                              std::int32_t* labels, T* probe, std::int32_t* probe_label, double* scratch,
                              unsigned char* undecided) {
  const long stride = static_cast<long>(gridDim.x) * blockDim.x;
  const long tid = static_cast<long>(blockIdx.x) * blockDim.x + threadIdx.x;
  double* s = scratch + tid * sample_prompt_hd_scratch(d, C);
  for (long i = tid; i < count; i += stride) {
    const bool ok = sample_prompt_hd<T>(seed + static_cast<std::uint64_t>(first + i), d, C, N, with_label != 0,
                                        X + i * N * d, labels + i * N, probe + i * d, probe_label + i, s);
    undecided[i] = ok ? 0 : 1;
  }
}

// The interval tier, one thread per prompt (issue 13); its workspace in global
// memory, ws_size elements per prompt, interleaved by groups of kIvInterleave
// prompts (the workspace holds whole groups). Launched in blocks of kCertifyThreads,
// whole groups: a group is a warp.
constexpr int kCertifyThreads = 128;
static_assert(kCertifyThreads % kIvInterleave == 0 && kIvInterleave % 32 == 0);
__global__ void certify_kernel(ModelView<Iv> m, int count, int N, int d, const double* X, const std::int32_t* labels,
                               const double* probe, const std::int32_t* probe_label, Iv* workspace, long ws_size,
                               IntervalVerdict* verdicts, Iv* depth_margins) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= count) return;
  IntervalOutputs out;
  if (depth_margins) out.depth_margins = depth_margins + static_cast<long>(b) * (m.layers + 1);
  Iv* group = workspace + static_cast<long>(b / kIvInterleave) * kIvInterleave * ws_size;
  verdicts[b] = certify_prompt(m, N, X + static_cast<long>(b) * N * d, labels + static_cast<long>(b) * N,
                               probe + static_cast<long>(b) * d, probe_label[b],
                               interleaved_scratch(group, b % kIvInterleave, interval_workspace_enclosures(d, m.C, N)),
                               out);
}

template <class T, int MAXD>
void configure_team_kernel(int shared_limit) {
  check("cudaFuncSetAttribute",
        cudaFuncSetAttribute(team_kernel<T, MAXD>, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_limit));
}

// Prompts per team: the G in 1..8 that keeps the most prompts resident per
// multiprocessor (ties to the smaller G); ICLCERT_CUDA_TEAM overrides it.
template <class T, int MAXD>
int pick_team(int d, int C, int N, int probe_is_key, bool dense, int shared_limit) {
  if (const char* env = std::getenv("ICLCERT_CUDA_TEAM")) {
    const int g = std::atoi(env);
    if (g >= 1 && g <= 64) {
      const TeamLayout lay = team_layout(g, d, C, N, probe_is_key, dense);
      const long bytes = lay.shared_elems() * static_cast<long>(sizeof(T));
      int blocks = 0;
      if (bytes <= shared_limit && lay.threads <= 1024 &&
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, team_kernel<T, MAXD>, lay.threads, bytes) ==
              cudaSuccess &&
          blocks > 0)
        return g;  // else (registers, shared memory) the automatic choice
    }
  }
  int best = 0, best_resident = 0;
  for (int g = 1; g <= 8; ++g) {
    const TeamLayout lay = team_layout(g, d, C, N, probe_is_key, dense);
    const long bytes = lay.shared_elems() * static_cast<long>(sizeof(T));
    if (bytes > shared_limit || lay.threads > 1024) break;
    int blocks = 0;
    check("cudaOccupancyMaxActiveBlocksPerMultiprocessor",
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, team_kernel<T, MAXD>, lay.threads, bytes));
    if (blocks * g > best_resident) {
      best_resident = blocks * g;
      best = g;
    }
  }
  return best;  // 0: not even one prompt fits in shared memory
}

template <class T>
struct Slot {
  cudaStream_t stream = nullptr;
  // Device buffers, sized for the pipeline's largest chunk.
  T *X = nullptr, *probe = nullptr, *margins = nullptr, *states = nullptr, *workspace = nullptr;
  std::int32_t *labels = nullptr, *probe_label = nullptr, *predictions = nullptr;
  LayerRecord<T>* records = nullptr;
  double* sample_scratch = nullptr;  // at the first sampled chunk
  int sample_threads = 0;
  unsigned char* undecided = nullptr;
  // Pinned host staging. The inputs, records and states are allocated at their
  // first use: pinning gigabytes takes about a second, and a sampled final-only
  // run needs none of them (only one prompt's worth, for the host's redraws).
  T *h_X = nullptr, *h_probe = nullptr, *h_margins = nullptr, *h_states = nullptr;
  std::int32_t *h_labels = nullptr, *h_probe_label = nullptr, *h_predictions = nullptr;
  LayerRecord<T>* h_records = nullptr;
  unsigned char* h_undecided = nullptr;
  T *h_one_X = nullptr, *h_one_probe = nullptr;
  std::int32_t *h_one_labels = nullptr, *h_one_probe_label = nullptr;
  // Events around the sampler and the kernel (ICLCERT_CUDA_TIMING).
  cudaEvent_t start = nullptr, sampled = nullptr, done = nullptr;
  bool timed_sampling = false;
  // What the chunk in flight is.
  int count = 0;
  Detail detail = Detail::final_only;
  bool busy = false;
};

constexpr int kSampleThreads = 128 * 1024;                  // sampler threads per launch (grid-stride), at most
constexpr std::size_t kSampleScratchBytes = std::size_t(256) << 20;  // and their scratch at most this

}  // namespace

template <class T>
struct CudaPipeline<T>::Impl {
  ModelView<T> host_model, m;  // m: pointers on the device
  int d, C, N, L, max_chunk, regs = 0, team = 0, shared_limit = 0;
  bool dense = false, with_states_ok = true, timing = false;
  double sample_ms = 0, kernel_ms = 0;
  long chunks = 0;
  std::vector<void*> device_ptrs, host_ptrs;
  Slot<T> slots[2];

  template <class U>
  U* dev(std::size_t n) {
    void* p = nullptr;
    check("cudaMalloc", cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(U)));
    device_ptrs.push_back(p);
    return static_cast<U*>(p);
  }
  template <class U>
  U* pinned(std::size_t n) {
    void* p = nullptr;
    check("cudaMallocHost", cudaMallocHost(&p, std::max<std::size_t>(n, 1) * sizeof(U)));
    host_ptrs.push_back(p);
    return static_cast<U*>(p);
  }
  template <class U>
  U* upload_model(const U* host, std::size_t n) {
    U* p = dev<U>(n);
    if (n) check("model upload", cudaMemcpy(p, host, n * sizeof(U), cudaMemcpyHostToDevice));
    return p;
  }
  ~Impl() {
    if (timing)
      std::fprintf(stderr, "iclcert cuda timing: %ld chunks, device sampling %.1f ms, kernel and download %.1f ms, %d prompts per block\n",
                   chunks, sample_ms, kernel_ms, regs > 0 ? team : 0);
    for (auto& s : slots) {
      if (s.stream) cudaStreamDestroy(s.stream);
      const cudaEvent_t events[3] = {s.start, s.sampled, s.done};
      for (cudaEvent_t e : events)
        if (e) cudaEventDestroy(e);
    }
    for (void* p : device_ptrs) cudaFree(p);
    for (void* p : host_ptrs) cudaFreeHost(p);
  }

  // Pinned staging of what `detail` downloads, at its first use.
  void ensure_host_outputs(Slot<T>& s, Detail detail) {
    const std::size_t n = max_chunk, L1 = L + 1, D = d + C;
    if (detail != Detail::final_only && !s.h_records) s.h_records = pinned<LayerRecord<T>>(n * L1);
    if (detail == Detail::with_states && !s.h_states) s.h_states = pinned<T>(n * L1 * (N + 1) * D);
  }

  void launch_kernel(Slot<T>& s) {
    const long L1 = L + 1;
    ensure_host_outputs(s, s.detail);
    if (regs > 0) {
      TeamArgs<T> a;
      a.m = m;
      a.lay = team_layout(team, d, C, N, m.probe_is_key, dense);
      a.count = s.count;
      a.detail = static_cast<int>(s.detail);
      a.X = s.X;
      a.labels = s.labels;
      a.probe = s.probe;
      a.probe_label = s.probe_label;
      a.predictions = s.predictions;
      a.margins = s.margins;
      a.records = s.records;
      a.states = s.states;
      const int blocks = (s.count + team - 1) / team;
      const std::size_t bytes = a.lay.shared_elems() * sizeof(T);
      switch (regs) {
        case 8: team_kernel<T, 8><<<blocks, a.lay.threads, bytes, s.stream>>>(a); break;
        case 16: team_kernel<T, 16><<<blocks, a.lay.threads, bytes, s.stream>>>(a); break;
        case 24: team_kernel<T, 24><<<blocks, a.lay.threads, bytes, s.stream>>>(a); break;
        default: team_kernel<T, 32><<<blocks, a.lay.threads, bytes, s.stream>>>(a); break;
      }
    } else {
      const long ws = workspace_size(d, C, N);
      const int threads = 128, blocks = (s.count + threads - 1) / threads;
      prompt_kernel<T><<<blocks, threads, 0, s.stream>>>(m, s.count, N, d, s.X, s.labels, s.probe, s.probe_label,
                                                         s.workspace, ws, static_cast<int>(s.detail), s.predictions,
                                                         s.margins, s.records, s.states);
    }
    check("kernel launch", cudaGetLastError());
    if (timing) check("event", cudaEventRecord(s.done, s.stream));
    // Results back into pinned staging.
    const std::size_t n = s.count;
    check("download", cudaMemcpyAsync(s.h_predictions, s.predictions, n * sizeof(std::int32_t),
                                      cudaMemcpyDeviceToHost, s.stream));
    check("download", cudaMemcpyAsync(s.h_probe_label, s.probe_label, n * sizeof(std::int32_t),
                                      cudaMemcpyDeviceToHost, s.stream));
    if (s.detail == Detail::final_only)
      check("download", cudaMemcpyAsync(s.h_margins, s.margins, n * sizeof(T), cudaMemcpyDeviceToHost, s.stream));
    else
      check("download", cudaMemcpyAsync(s.h_records, s.records, n * L1 * sizeof(LayerRecord<T>),
                                        cudaMemcpyDeviceToHost, s.stream));
    if (s.detail == Detail::with_states)
      check("download", cudaMemcpyAsync(s.h_states, s.states, n * L1 * (N + 1) * (d + C) * sizeof(T),
                                        cudaMemcpyDeviceToHost, s.stream));
  }
};

template <class T>
CudaPipeline<T>::CudaPipeline(const ModelView<T>& model, int d, int C, int N, int max_chunk, bool keep_states)
    : impl_(std::make_unique<Impl>()) {
  use_process_device();
  Impl& p = *impl_;
  p.host_model = model;
  p.d = d;
  p.C = C;
  p.N = N;
  p.L = model.layers;
  p.max_chunk = std::max(1, max_chunk);
  p.dense = model_has_dense_layer(model.kind, model.layers);
  p.m = model;
  p.m.kind = p.upload_model(model.kind, model.layers);
  p.m.heads = p.upload_model(model.heads, model.layers);
  p.m.offset = p.upload_model(model.offset, model.layers);
  p.m.coeffs = p.upload_model(model.coeffs, model.coeff_count);
  int device = 0;
  check("cudaGetDevice", cudaGetDevice(&device));
  check("cudaDeviceGetAttribute",
        cudaDeviceGetAttribute(&p.shared_limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  p.regs = column_regs_for(d + C);
  if (p.regs > 0) {
    switch (p.regs) {
      case 8: configure_team_kernel<T, 8>(p.shared_limit); p.team = pick_team<T, 8>(d, C, N, model.probe_is_key, p.dense, p.shared_limit); break;
      case 16: configure_team_kernel<T, 16>(p.shared_limit); p.team = pick_team<T, 16>(d, C, N, model.probe_is_key, p.dense, p.shared_limit); break;
      case 24: configure_team_kernel<T, 24>(p.shared_limit); p.team = pick_team<T, 24>(d, C, N, model.probe_is_key, p.dense, p.shared_limit); break;
      default: configure_team_kernel<T, 32>(p.shared_limit); p.team = pick_team<T, 32>(d, C, N, model.probe_is_key, p.dense, p.shared_limit); break;
    }
    if (p.team == 0) p.regs = 0;  // a prompt too long for shared memory: the per-prompt kernel
  }
  const std::size_t n = p.max_chunk, L1 = p.L + 1, D = d + C;
  for (Slot<T>& s : p.slots) {
    check("cudaStreamCreate", cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    s.X = p.template dev<T>(n * N * d);
    s.labels = p.template dev<std::int32_t>(n * N);
    s.probe = p.template dev<T>(n * d);
    s.probe_label = p.template dev<std::int32_t>(n);
    s.predictions = p.template dev<std::int32_t>(n);
    s.margins = p.template dev<T>(n);
    s.records = p.template dev<LayerRecord<T>>(n * L1);
    s.states = p.template dev<T>(keep_states ? n * L1 * (N + 1) * D : 0);
    s.workspace = p.template dev<T>(p.regs > 0 ? 0 : n * workspace_size(d, C, N));
    s.undecided = p.template dev<unsigned char>(n);
    s.h_probe_label = p.template pinned<std::int32_t>(n);
    s.h_predictions = p.template pinned<std::int32_t>(n);
    s.h_margins = p.template pinned<T>(n);
    s.h_undecided = p.template pinned<unsigned char>(n);
    s.h_one_X = p.template pinned<T>(static_cast<std::size_t>(N) * d);
    s.h_one_labels = p.template pinned<std::int32_t>(N);
    s.h_one_probe = p.template pinned<T>(d);
    s.h_one_probe_label = p.template pinned<std::int32_t>(1);
    check("cudaEventCreate", cudaEventCreate(&s.start));
    check("cudaEventCreate", cudaEventCreate(&s.sampled));
    check("cudaEventCreate", cudaEventCreate(&s.done));
  }
  p.with_states_ok = keep_states;
  const char* timing = std::getenv("ICLCERT_CUDA_TIMING");
  p.timing = timing && *timing && std::string(timing) != "0";
}

template <class T>
CudaPipeline<T>::~CudaPipeline() = default;

template <class T>
void CudaPipeline<T>::launch(int slot, const PromptBlock<T>& block, Detail detail) {
  Impl& p = *impl_;
  Slot<T>& s = p.slots[slot];
  if (s.busy) throw std::logic_error("CudaPipeline: slot launched twice");
  if (block.count > p.max_chunk || (detail == Detail::with_states && !p.with_states_ok))
    throw std::logic_error("CudaPipeline: chunk beyond the pipeline's size");
  s.count = block.count;
  s.detail = detail;
  if (s.count == 0) return;
  const std::size_t n = s.count, N = p.N, d = p.d;
  if (!s.h_X) {
    s.h_X = p.template pinned<T>(static_cast<std::size_t>(p.max_chunk) * N * d);
    s.h_labels = p.template pinned<std::int32_t>(static_cast<std::size_t>(p.max_chunk) * N);
    s.h_probe = p.template pinned<T>(static_cast<std::size_t>(p.max_chunk) * d);
  }
  // Through pinned staging, so that the copies are asynchronous.
  std::memcpy(s.h_X, block.X.data(), n * N * d * sizeof(T));
  std::memcpy(s.h_labels, block.labels.data(), n * N * sizeof(std::int32_t));
  std::memcpy(s.h_probe, block.probe.data(), n * d * sizeof(T));
  std::memcpy(s.h_probe_label, block.probe_label.data(), n * sizeof(std::int32_t));
  check("upload", cudaMemcpyAsync(s.X, s.h_X, n * N * d * sizeof(T), cudaMemcpyHostToDevice, s.stream));
  check("upload", cudaMemcpyAsync(s.labels, s.h_labels, n * N * sizeof(std::int32_t), cudaMemcpyHostToDevice, s.stream));
  check("upload", cudaMemcpyAsync(s.probe, s.h_probe, n * d * sizeof(T), cudaMemcpyHostToDevice, s.stream));
  check("upload", cudaMemcpyAsync(s.probe_label, s.h_probe_label, n * sizeof(std::int32_t), cudaMemcpyHostToDevice,
                                  s.stream));
  s.timed_sampling = false;
  if (p.timing) check("event", cudaEventRecord(s.start, s.stream));
  p.launch_kernel(s);
  s.busy = true;
}

template <class T>
long CudaPipeline<T>::launch_sampled(int slot, const SampledChunk& chunk, Detail detail, const HostRedraw<T>& redraw) {
  Impl& p = *impl_;
  Slot<T>& s = p.slots[slot];
  if (s.busy) throw std::logic_error("CudaPipeline: slot launched twice");
  if (chunk.count > p.max_chunk || (detail == Detail::with_states && !p.with_states_ok))
    throw std::logic_error("CudaPipeline: chunk beyond the pipeline's size");
  s.count = chunk.count;
  s.detail = detail;
  if (s.count == 0) return 0;
  if (!s.sample_scratch) {
    // Each sampler thread needs (C + 1) d doubles: fewer threads for wide prompts.
    const std::size_t per_thread = sample_prompt_hd_scratch(p.d, p.C) * sizeof(double);
    s.sample_threads = static_cast<int>(std::clamp<std::size_t>(kSampleScratchBytes / per_thread / 128 * 128, 128,
                                                                kSampleThreads));
    s.sample_scratch = p.template dev<double>(static_cast<std::size_t>(s.sample_threads) * sample_prompt_hd_scratch(p.d, p.C));
  }
  const int threads = 128, blocks = std::min<long>(s.sample_threads / threads, (chunk.count + threads - 1) / threads);
  s.timed_sampling = p.timing;
  if (p.timing) check("event", cudaEventRecord(s.start, s.stream));
  sample_kernel<T><<<blocks, threads, 0, s.stream>>>(chunk.seed, chunk.first, chunk.count, p.d, p.C, p.N,
                                                     chunk.probe_label ? 1 : 0, s.X, s.labels, s.probe,
                                                     s.probe_label, s.sample_scratch, s.undecided);
  check("sampler launch", cudaGetLastError());
  const std::size_t n = s.count, N = p.N, d = p.d;
  check("download", cudaMemcpyAsync(s.h_undecided, s.undecided, n, cudaMemcpyDeviceToHost, s.stream));
  if (p.timing) check("event", cudaEventRecord(s.sampled, s.stream));
  check("sampler", cudaStreamSynchronize(s.stream));  // the other slot's kernel keeps the device busy meanwhile
  long redrawn = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.h_undecided[i]) continue;
    ++redrawn;
    redraw(chunk.first + static_cast<long>(i), s.h_one_X, s.h_one_labels, s.h_one_probe, s.h_one_probe_label);
    check("upload", cudaMemcpyAsync(s.X + i * N * d, s.h_one_X, N * d * sizeof(T), cudaMemcpyHostToDevice, s.stream));
    check("upload", cudaMemcpyAsync(s.labels + i * N, s.h_one_labels, N * sizeof(std::int32_t),
                                    cudaMemcpyHostToDevice, s.stream));
    check("upload", cudaMemcpyAsync(s.probe + i * d, s.h_one_probe, d * sizeof(T), cudaMemcpyHostToDevice, s.stream));
    check("upload", cudaMemcpyAsync(s.probe_label + i, s.h_one_probe_label, sizeof(std::int32_t),
                                    cudaMemcpyHostToDevice, s.stream));
    check("upload", cudaStreamSynchronize(s.stream));  // the staging is reused by the next one (rare)
  }
  p.launch_kernel(s);
  s.busy = true;
  return redrawn;
}

template <class T>
void CudaPipeline<T>::collect(int slot, BlockOutput<T>& out, std::vector<std::int32_t>* probe_labels) {
  Impl& p = *impl_;
  Slot<T>& s = p.slots[slot];
  PromptBlock<T> shape;
  shape.count = s.count;
  shape.d = p.d;
  shape.C = p.C;
  shape.N = p.N;
  out.prepare(shape, p.L, s.detail);
  if (probe_labels) probe_labels->assign(s.count, -1);
  if (s.count == 0) return;
  check("kernel", cudaStreamSynchronize(s.stream));
  s.busy = false;
  if (p.timing) {
    float ms = 0;
    if (s.timed_sampling) {
      check("event", cudaEventElapsedTime(&ms, s.start, s.sampled));
      p.sample_ms += ms;
      check("event", cudaEventElapsedTime(&ms, s.sampled, s.done));
    } else {
      check("event", cudaEventElapsedTime(&ms, s.start, s.done));
    }
    p.kernel_ms += ms;
    ++p.chunks;
  }
  const std::size_t n = s.count;
  std::memcpy(out.predictions.data(), s.h_predictions, n * sizeof(std::int32_t));
  if (probe_labels) std::memcpy(probe_labels->data(), s.h_probe_label, n * sizeof(std::int32_t));
  if (!out.probe_margins.empty()) std::memcpy(out.probe_margins.data(), s.h_margins, n * sizeof(T));
  if (!out.records.empty()) std::memcpy(out.records.data(), s.h_records, out.records.size() * sizeof(LayerRecord<T>));
  if (!out.states.empty()) std::memcpy(out.states.data(), s.h_states, out.states.size() * sizeof(T));
}

template <class T>
int CudaPipeline<T>::team_prompts() const {
  return impl_->regs > 0 ? impl_->team : 0;
}

namespace {
// A quarter of this process's device's free memory, in bytes: what one run's
// chunks may take (auto_chunk, certify_chunk_cuda).
std::size_t quarter_of_free_memory() {
  std::size_t free_bytes = 0, total_bytes = 0;
  use_process_device();
  check("cudaMemGetInfo", cudaMemGetInfo(&free_bytes, &total_bytes));
  return free_bytes / 4;
}
}  // namespace

template <class T>
int CudaPipeline<T>::auto_chunk(int d, int C, int N, int layers, Detail detail) {
  const std::size_t L1 = layers + 1, D = d + C;
  // Per prompt and slot, device and pinned host alike: inputs, results, states.
  std::size_t per = (static_cast<std::size_t>(N) * d + d) * sizeof(T) + (N + 3) * 4 + sizeof(T) + 1 +
                    L1 * sizeof(LayerRecord<T>);
  if (detail == Detail::with_states) per += L1 * (N + 1) * D * sizeof(T);
  if (column_regs_for(d + C) == 0) per += workspace_size(d, C, N) * sizeof(T);  // the per-prompt kernel's scratch
  // Two slots in a quarter of the free memory, at most 2^18 prompts (bounded host
  // memory), at least 4096.
  const std::size_t fit = quarter_of_free_memory() / (2 * per);
  return static_cast<int>(std::clamp<std::size_t>(fit, 4096, 1 << 18));
}

template class CudaPipeline<float>;
template class CudaPipeline<double>;

template <class T>
std::string run_block_cuda(const ModelView<T>& host, const PromptBlock<T>& block, Detail detail,
                           BlockOutput<T>& out) {
  try {
    CudaPipeline<T> pipeline(host, block.d, block.C, block.N, std::max(1, block.count),
                             detail == Detail::with_states);
    pipeline.launch(0, block, detail);
    pipeline.collect(0, out, nullptr);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

template std::string run_block_cuda<float>(const ModelView<float>&, const PromptBlock<float>&, Detail,
                                           BlockOutput<float>&);
template std::string run_block_cuda<double>(const ModelView<double>&, const PromptBlock<double>&, Detail,
                                            BlockOutput<double>&);

std::string certify_block_cuda(const ModelView<Iv>& host, const PromptBlock<double>& block,
                               std::vector<IntervalVerdict>& verdicts, std::vector<Iv>* depth_margins) {
  verdicts.assign(block.count, IntervalVerdict{});
  const long L1 = host.layers + 1;
  if (depth_margins) depth_margins->assign(static_cast<std::size_t>(block.count) * L1, Iv{0, 0});
  if (block.count == 0) return "";
  std::vector<void*> ptrs;
  struct Free {
    std::vector<void*>& p;
    ~Free() {
      for (void* q : p) cudaFree(q);
    }
  } release{ptrs};
  auto alloc = [&](auto*& out, std::size_t n) {
    void* p = nullptr;
    check("cudaMalloc", cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(*out)));
    ptrs.push_back(p);
    out = static_cast<std::remove_reference_t<decltype(out)>>(p);
  };
  auto upload = [&](auto*& out, const auto* in, std::size_t n) {
    alloc(out, n);
    if (n) check("upload", cudaMemcpy(out, in, n * sizeof(*in), cudaMemcpyHostToDevice));
  };
  try {
    use_process_device();
    ModelView<Iv> m = host;
    int *kind, *heads, *offset;
    Iv* coeffs;
    upload(kind, host.kind, host.layers);
    upload(heads, host.heads, host.layers);
    upload(offset, host.offset, host.layers);
    upload(coeffs, host.coeffs, host.coeff_count);
    m.kind = kind;
    m.heads = heads;
    m.offset = offset;
    m.coeffs = coeffs;
    double *X, *probe;
    std::int32_t *labels, *probe_label;
    upload(X, block.X.data(), block.X.size());
    upload(labels, block.labels.data(), block.labels.size());
    upload(probe, block.probe.data(), block.probe.size());
    upload(probe_label, block.probe_label.data(), block.probe_label.size());
    const long ws = interval_workspace_size(block.d, block.C, block.N);
    Iv *workspace, *margins = nullptr;
    IntervalVerdict* out;
    const long groups = (block.count + kIvInterleave - 1) / kIvInterleave;
    alloc(workspace, static_cast<std::size_t>(groups) * kIvInterleave * ws);
    alloc(out, block.count);
    if (depth_margins) alloc(margins, depth_margins->size());
    const int blocks = (block.count + kCertifyThreads - 1) / kCertifyThreads;
    certify_kernel<<<blocks, kCertifyThreads>>>(m, block.count, block.N, block.d, X, labels, probe, probe_label,
                                                 workspace, ws, out, margins);
    check("certify launch", cudaGetLastError());
    check("certify kernel", cudaDeviceSynchronize());
    check("download", cudaMemcpy(verdicts.data(), out, verdicts.size() * sizeof(IntervalVerdict), cudaMemcpyDeviceToHost));
    if (depth_margins)
      check("download", cudaMemcpy(depth_margins->data(), margins, depth_margins->size() * sizeof(Iv),
                                   cudaMemcpyDeviceToHost));
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

int certify_chunk_cuda(int d, int C, int N, int layers) {
  // Per prompt: the workspace, the inputs, the verdict and the depth margins.
  const std::size_t per = static_cast<std::size_t>(interval_workspace_size(d, C, N)) * sizeof(Iv) +
                          (static_cast<std::size_t>(N) * d + d) * sizeof(double) + (N + 1) * sizeof(std::int32_t) +
                          sizeof(IntervalVerdict) + static_cast<std::size_t>(layers + 1) * sizeof(Iv);
  const std::size_t fit = std::clamp<std::size_t>(quarter_of_free_memory() / per, 4096, 65536);
  return static_cast<int>(fit / kCertifyThreads * kCertifyThreads);
}

int cuda_device_count(std::string& why) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    why = describe("cudaGetDeviceCount", e);
    return 0;
  }
  if (count == 0) why = "no CUDA device";
  return count;
}
bool built_with_cuda() { return true; }

}  // namespace iclcert::gpu
