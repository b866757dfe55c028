// The batch driver: prompts from a file or the sampler, streamed in chunks through
// a backend (CPU or CUDA), folded into per-layer batch statistics, with the first
// K prompts validated against enclosures (claim G1). Memory is bounded by the
// chunk, the per-prompt predictions (2 bytes each) and the validated prompts.
#pragma once

#include "gpu/batch_backend.hpp"
#include "gpu/batch_validate.hpp"
#include "gpu/progress.hpp"
#include "numerics/model.hpp"
#include "numerics/prompt.hpp"
#include "numerics/sampler.hpp"

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace iclcert::gpu {

enum class BatchArith { float32, float64 };
const char* to_string(BatchArith a);  // "float32", "float64"

// Where the prompts of a batch come from; all share d, C and N.
class PromptSource {
 public:
  virtual ~PromptSource() = default;
  virtual long size() const = 0;
  virtual void fill(long first, int count, PromptBlock<float>& block) const = 0;
  virtual void fill(long first, int count, PromptBlock<double>& block) const = 0;
  virtual Prompt exact(long k) const = 0;  // prompt k exactly (for validation)
  virtual bool inputs_are_doubles() const { return false; }  // every input number is a double
  // The sampler's options when the prompts are sampled (prompt k has seed + k).
  virtual const SamplerOptions* sampler() const { return nullptr; }
  // Throws InputError naming the file and the first input number that is not
  // finite in `arith` (it rounds to an infinity): no float run may start from one.
  // Sampled prompts are finite doubles, well within float32.
  virtual void require_finite(BatchArith /*arith*/) const {}
  int d = 0, C = 0, N = 0;
};

// A batch file's prompts; throws InputError (naming `file` and the prompt) when
// they do not share d, C and N, or the list is empty.
std::unique_ptr<PromptSource> prompts_from_list(std::vector<Prompt> prompts, const std::string& file);
// Prompt k drawn with seed base.seed + k, as `iclcert sample --count` does; the
// sampling of a chunk runs on `threads` threads.
std::unique_ptr<PromptSource> prompts_from_sampler(const SamplerOptions& base, long count, int threads);

enum class DeviceChoice { automatic, cpu, cuda };

// Batch statistics of one metric at one depth: finite values (sum, min, max),
// +inf values and undefined ones (NaN: a ratio 0/0, or no probe label).
struct MetricStats {
  long finite = 0, pos_inf = 0, undefined = 0;
  double sum = 0, min = 0, max = 0;
  void add(double v);
};

inline constexpr std::array<const char*, 6> kMetricNames = {
    "fisher", "gap_ratio", "min_label_margin", "probe_margin", "probe_alignment", "probe_attention_same_class"};

struct LayerStats {
  std::array<MetricStats, 6> metrics;  // in kMetricNames order
  long labelled = 0, correct = 0;      // prompts with a probe label; of those, probe margin > 0
};

// Splits a run's items (chunks of prompts) across processes; the cli passes one under
// mpiexec. It computes items 0 .. n - 1 with `one(i)`, anywhere, and hands each
// item's bytes to `take(i, bytes)` in index order on the process that writes the
// output (on the others, `take` is never called). The per-prompt records travel,
// and the folds run in prompt order on that process: the same sums as one process.
using ItemDistributor = std::function<void(long items, const std::function<std::string(long)>& one,
                                           const std::function<void(long, const std::string&)>& take)>;

struct BatchConfig {
  BatchArith arith = BatchArith::float32;
  DeviceChoice device = DeviceChoice::automatic;
  int threads = 2;
  long validate = 0;  // the first `validate` prompts
  int chunk = 4096;
  bool chunk_given = false;  // CUDA: without --chunk the chunk comes from the device's memory
  ProgressMode progress;  // the progress line on stderr (gpu/progress.hpp)
  Detail detail = Detail::per_layer;  // final_only: no per-layer statistics
  ItemDistributor distribute;          // empty: every chunk in this process
  // Tests only: compare runs its device loop (two chunks in flight) with the CPU
  // backend standing in for the CUDA pipeline, so that the loop's order is checked
  // without a GPU.
  bool host_pipeline = false;
};

// A prediction of BatchResult (and CompareResult) whose probe's final label block
// is inf or NaN: the kernel's kNoPrediction (C <= 256 leaves it free).
inline constexpr std::uint16_t kUndefinedPrediction = 0xFFFF;

inline std::uint16_t stored_prediction(std::int32_t p) {
  return p == kNoPrediction ? kUndefinedPrediction : static_cast<std::uint16_t>(p);
}

struct BatchResult {
  std::vector<std::uint16_t> predictions;  // one per prompt, in order (kUndefinedPrediction: overflowed)
  long undefined = 0, first_undefined = -1;  // predictions undefined: the float state overflowed
  std::vector<LayerStats> layers;          // depth t = 0..L (per_layer)
  long labelled = 0, correct = 0;          // at the last depth
  std::string device;                      // "cpu (2 threads)", "cuda"
  std::string backend_notice;              // choose_backend's notice, for stderr
  std::optional<ValidationReport> validation;
  double seconds = 0, validation_seconds = 0;
  long device_sampled = 0, device_redrawn = 0;  // CUDA: prompts drawn on the device; of those, redrawn by the host
  int chunk = 0;                                // the chunk size used
  long peak_rss_kib = 0;
};

// Throws std::invalid_argument for a model that cannot run on these prompts, or
// --device cuda without a usable device, and InputError for an input number that
// is not finite in config.arith (PromptSource::require_finite), before any work.
BatchResult run_batch(const PromptSource& source, const Model& model, const BatchConfig& config);

// The backend of a run: CUDA when chosen and usable (device "cuda"), else the CPU
// ("cpu (T threads)"); `notice` says which and why, prefixed by `who`, for the
// command to print on stderr (a library call prints nothing). Throws
// std::invalid_argument for --device cuda without a usable device.
struct BackendChoice {
  bool use_cuda = false;
  std::string device, notice;  // notice: "" when the choice was --device cpu
};
BackendChoice choose_backend(const BatchConfig& config, const char* who);

long peak_rss_kib();

// Raw bytes of trivially copyable values, for the items an ItemDistributor carries
// (every process of a run is the same binary on the same kind of machine).
template <class T>
void put_bytes(std::string& s, const T* p, std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  s.append(reinterpret_cast<const char*>(p), n * sizeof(T));
}
template <class T>
void get_bytes(const std::string& s, std::size_t& at, T* p, std::size_t n) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (at + n * sizeof(T) > s.size()) throw std::logic_error("a distributed item is shorter than its records");
  std::memcpy(static_cast<void*>(p), s.data() + at, n * sizeof(T));
  at += n * sizeof(T);
}
// A vector as its length, then its elements.
template <class T>
void put_vector(std::string& s, const std::vector<T>& v) {
  const std::uint64_t n = v.size();
  put_bytes(s, &n, 1);
  put_bytes(s, v.data(), v.size());
}
template <class T>
void get_vector(const std::string& s, std::size_t& at, std::vector<T>& v) {
  std::uint64_t n = 0;
  get_bytes(s, at, &n, 1);
  v.resize(n);
  get_bytes(s, at, v.data(), n);
}

}  // namespace iclcert::gpu
