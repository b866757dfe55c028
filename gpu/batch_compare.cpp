#include "gpu/batch_compare.hpp"

#include "gpu/batch_model.hpp"
#include "gpu/progress.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace iclcert::gpu {
namespace {

// One prompt's measurements at one depth, apart from their fold into the per-depth
// sums (so that, under mpiexec, prompts measured on other ranks fold in order).
struct DepthMeasure {
  double dev = 0, scale = 0, feature = 0;  // centred logit deviation, |yA - mean yA|_inf, feature deviation ratio
  std::int8_t correct_a = 0, correct_b = 0, agree = 0;
};

template <class T>
void measure_prompt(const PromptBlock<T>& block, const BlockOutput<T>& a, const BlockOutput<T>& b, int L1, int i,
                    DepthMeasure* out) {
  const int N1 = block.N + 1, d = block.d, C = block.C, D = d + C;
  for (int t = 0; t < L1; ++t) {
    const long rec = static_cast<long>(i) * L1 + t;
    const T* sa = a.states.data() + rec * N1 * D;
    const T* sb = b.states.data() + rec * N1 * D;
    DepthMeasure& m = out[t];
    m.correct_a = a.records[rec].probe_margin > T(0);
    m.correct_b = b.records[rec].probe_margin > T(0);
    // An undefined prediction (the float state overflowed) agrees with none.
    m.agree = a.records[rec].prediction != kNoPrediction && a.records[rec].prediction == b.records[rec].prediction;
    const long probe = static_cast<long>(block.N) * D + d;
    m.dev = centred_deviation(sa + probe, sb + probe, C, &m.scale);
    double xdev = 0, xscale = 1;
    for (int r = 0; r < N1; ++r)
      for (int k = 0; k < d; ++k) {
        xdev = std::max(xdev, std::abs(static_cast<double>(sa[r * D + k]) - static_cast<double>(sb[r * D + k])));
        xscale = std::max(xscale, std::abs(static_cast<double>(sa[r * D + k])));
      }
    m.feature = xdev / xscale;
  }
}

// Folds one prompt's measurements (L1 depths) into the per-depth statistics.
void fold_prompt(const DepthMeasure* m, bool labelled, int L1, std::vector<CompareLayer>& layers) {
  for (int t = 0; t < L1; ++t) {
    CompareLayer& l = layers[t];
    if (labelled) {
      ++l.labelled;
      l.correct_a += m[t].correct_a;
      l.correct_b += m[t].correct_b;
    }
    l.agree += m[t].agree;
    const double dev = m[t].dev, scale = m[t].scale;
    l.max_logit_dev = std::max(l.max_logit_dev, dev);
    l.sum_logit_dev += dev;
    if (scale > 0) {
      l.max_rel_logit_dev = std::max(l.max_rel_logit_dev, dev / scale);
      l.sum_rel_logit_dev += dev / scale;
      ++l.rel_count;
    }
    l.max_feature_dev = std::max(l.max_feature_dev, m[t].feature);
  }
}

// Enclosure of |(yA - mean yA) - (yB - mean yB)|_inf.
ArbBall centred_deviation(std::span<const ArbBall> ya, std::span<const ArbBall> yb) {
  using Tr = ScalarTraits<ArbBall>;
  const int C = static_cast<int>(ya.size());
  ArbBall ma = from_int<ArbBall>(0), mb = from_int<ArbBall>(0);
  for (int c = 0; c < C; ++c) {
    ma += ya[c];
    mb += yb[c];
  }
  const ArbBall diff_of_means = (ma - mb) / from_int<ArbBall>(C);
  ArbBall worst = from_int<ArbBall>(0);
  for (int c = 0; c < C; ++c) {
    const ArbBall delta = ya[c] - yb[c] - diff_of_means;
    worst = Tr::max(worst, Tr::max(delta, -delta));
  }
  return worst;
}

// One certified prompt, apart from its fold (as DepthMeasure): per depth the
// certified predictions of A and B (-1: not decided), the batch path's, and the
// enclosure of the centred deviation; the last depth's logits in `detail`.
struct CertifiedMeasure {
  std::vector<std::array<int, 4>> predictions;  // ca, cb, float a, float b
  std::vector<ArbBall> deviation;
  CertifiedPrompt detail;
};

// Prompt `first + i` in Arb balls, at the caller's working precision (256 bits).
template <class T>
CertifiedMeasure certify_prompt(const PromptSource& source, const Model& a, const Model& b, long first, int i,
                                const BlockOutput<T>& fa, const BlockOutput<T>& fb, int L1) {
  using Tr = ScalarTraits<ArbBall>;
  const Prompt p = source.exact(first + i);
  const Trace<ArbBall> ta = run_recursion<ArbBall>(p, a), tb = run_recursion<ArbBall>(p, b);
  CertifiedMeasure m;
  for (int t = 0; t < L1; ++t) {
    const auto& sa = ta.entries[t].state;
    const auto& sb = tb.entries[t].state;
    const auto ya = sa.y(sa.probe_row()), yb = sb.y(sb.probe_row());
    const int ca = certified_prediction<ArbBall>(ya), cb = certified_prediction<ArbBall>(yb);
    const long rec = static_cast<long>(i) * L1 + t;
    m.predictions.push_back({ca, cb, fa.records[rec].prediction, fb.records[rec].prediction});
    if (t == L1 - 1) {
      m.detail = {first + i, {}, {}, ca, cb, fa.records[rec].prediction, fb.records[rec].prediction};
      for (const auto& v : ya) m.detail.logits_a.emplace_back(Tr::lower_string(v), Tr::upper_string(v));
      for (const auto& v : yb) m.detail.logits_b.emplace_back(Tr::lower_string(v), Tr::upper_string(v));
    }
    m.deviation.push_back(centred_deviation(ya, yb));
  }
  return m;
}

// `max_deviation[t]`: the running interval max over the prompts so far of the
// enclosures of the centred deviation at depth t (it starts at exactly 0, a lower
// bound of every deviation, so the first prompt needs no special case). Prompts
// fold in index order.
void fold_certified(CertifiedMeasure&& m, std::vector<ArbBall>& max_deviation, std::vector<CertifiedLayer>& out,
                    std::vector<CertifiedPrompt>& detail) {
  using Tr = ScalarTraits<ArbBall>;
  WorkingPrecision precision(256);
  for (std::size_t t = 0; t < m.predictions.size(); ++t) {
    const auto [ca, cb, float_a, float_b] = m.predictions[t];
    CertifiedLayer& l = out[t];
    if (ca >= 0 && float_a != ca) ++l.float_flips_a;
    if (cb >= 0 && float_b != cb) ++l.float_flips_b;
    if (ca >= 0 && cb >= 0) {
      ++l.both_certified;
      (ca == cb ? l.certified_agree : l.certified_disagree) += 1;
    }
    max_deviation[t] = Tr::max(max_deviation[t], m.deviation[t]);
  }
  detail.push_back(std::move(m.detail));
}

// The deviations' texts from the running maxima.
void finish_certified(const std::vector<ArbBall>& max_deviation, std::vector<CertifiedLayer>& out) {
  using Tr = ScalarTraits<ArbBall>;
  for (std::size_t t = 0; t < out.size(); ++t) {
    CertifiedLayer& l = out[t];
    l.deviation_lo_text = Tr::lower_string(max_deviation[t]);
    l.deviation_hi_text = Tr::upper_string(max_deviation[t]);
    l.deviation_lo = std::strtod(l.deviation_lo_text.c_str(), nullptr);
    l.deviation_hi = std::strtod(l.deviation_hi_text.c_str(), nullptr);
  }
}

// A string as its length and bytes; an Arb ball exactly (arb_dump_str: midpoint
// and radius in exact hexadecimal form).
void put_string(std::string& s, const std::string& v) {
  const std::uint64_t n = v.size();
  put_bytes(s, &n, 1);
  s += v;
}
std::string get_string(const std::string& s, std::size_t& at) {
  std::uint64_t n = 0;
  get_bytes(s, at, &n, 1);
  if (at + n > s.size()) throw std::logic_error("a distributed item is shorter than its records");
  std::string v = s.substr(at, n);
  at += n;
  return v;
}
void put_ball(std::string& s, const ArbBall& x) {
  char* text = arb_dump_str(x.get());
  put_string(s, text);
  flint_free(text);
}
ArbBall get_ball(const std::string& s, std::size_t& at) {
  ArbBall x;
  if (arb_load_str(x.get(), get_string(s, at).c_str()) != 0) throw std::logic_error("a distributed Arb ball did not load");
  return x;
}

void put_certified(std::string& s, const CertifiedMeasure& m) {
  put_vector(s, m.predictions);
  for (const ArbBall& x : m.deviation) put_ball(s, x);
  const long index = m.detail.index;
  const int head[4] = {m.detail.certified_a, m.detail.certified_b, m.detail.float_a, m.detail.float_b};
  put_bytes(s, &index, 1);
  put_bytes(s, head, 4);
  for (const auto* logits : {&m.detail.logits_a, &m.detail.logits_b}) {
    const std::uint64_t n = logits->size();
    put_bytes(s, &n, 1);
    for (const auto& [lo, hi] : *logits) {
      put_string(s, lo);
      put_string(s, hi);
    }
  }
}
CertifiedMeasure get_certified(const std::string& s, std::size_t& at) {
  CertifiedMeasure m;
  get_vector(s, at, m.predictions);
  for (std::size_t t = 0; t < m.predictions.size(); ++t) m.deviation.push_back(get_ball(s, at));
  int head[4];
  get_bytes(s, at, &m.detail.index, 1);
  get_bytes(s, at, head, 4);
  m.detail.certified_a = head[0], m.detail.certified_b = head[1], m.detail.float_a = head[2], m.detail.float_b = head[3];
  for (auto* logits : {&m.detail.logits_a, &m.detail.logits_b}) {
    std::uint64_t n = 0;
    get_bytes(s, at, &n, 1);
    for (std::uint64_t c = 0; c < n; ++c) {
      std::string lo = get_string(s, at);
      logits->emplace_back(std::move(lo), get_string(s, at));
    }
  }
  return m;
}

// CudaPipeline's launch and collect on the CPU backend (BatchConfig::host_pipeline):
// each slot keeps its chunk's outputs until collected, as a device slot does.
template <class T>
struct HostPipeline {
  HostPipeline(const ModelView<T>& m, int t) : model(m), threads(t) {}
  void launch(int slot, const PromptBlock<T>& block, Detail detail) {
    run_block_cpu(model, block, detail, threads, out[slot]);
  }
  void collect(int slot, BlockOutput<T>& o, std::vector<std::int32_t>*) { std::swap(o, out[slot]); }
  ModelView<T> model;
  int threads;
  BlockOutput<T> out[2];
};

template <class T>
CompareResult run_typed(const PromptSource& source, const Model& a, const Model& b, const BatchConfig& config,
                        bool use_cuda) {
  const BatchModel<T> ma = make_batch_model<T>(a, source.d, source.C);
  const BatchModel<T> mb = make_batch_model<T>(b, source.d, source.C);
  const int L1 = ma.layers() + 1;
  const long total = source.size(), validate = std::min(config.validate, total);
  CompareResult r;
  r.layers.resize(L1);
  r.predictions_a.resize(total);
  r.predictions_b.resize(total);
  r.logits_a.resize(static_cast<std::size_t>(total) * source.C);
  if (validate > 0) r.certified.resize(L1);
  std::vector<ArbBall> max_deviation(validate > 0 ? L1 : 0);  // exactly 0 each
  r.certified_prompts = validate;
  // States are kept for every prompt, so the chunk is capped to bound memory.
  const long per_prompt = static_cast<long>(L1) * (source.N + 1) * (source.d + source.C);
  const int chunk = static_cast<int>(std::max<long>(1, std::min<long>(config.chunk, (64L << 20) / sizeof(T) / per_prompt)));
  Progress progress("iclcert compare", total, config.progress);
  PromptBlock<T> block;
  BlockOutput<T> oa, ob;
  auto run = [&](const PromptBlock<T>& in, const BatchModel<T>& m, BlockOutput<T>& out) {
    if (use_cuda) {
      const std::string error = run_block_cuda(m.view(), in, Detail::with_states, out);
      if (!error.empty()) throw std::runtime_error("CUDA backend: " + error);
    } else {
      run_block_cpu(m.view(), in, Detail::with_states, config.threads, out);
    }
  };
  const int D = source.d + source.C, N1 = source.N + 1, C = source.C;
  // A chunk: run both models, measure every prompt, certify the first K. The
  // results go to `take`, which folds them in prompt order.
  struct Chunk {
    std::vector<DepthMeasure> measures;  // count x L1
    std::vector<std::int32_t> probe_label, predictions_a, predictions_b;
    std::vector<double> logits;          // count x C: A's last-depth logits
    std::vector<CertifiedMeasure> certified;
    double certified_seconds = 0;
  };
  // A chunk's measures from both models' outputs on the prompts `in`.
  auto measure_chunk = [&](long first, int count, const PromptBlock<T>& in, const BlockOutput<T>& xa,
                           const BlockOutput<T>& xb) {
    Chunk c;
    c.measures.resize(static_cast<std::size_t>(count) * L1);
    for (int i = 0; i < count; ++i) measure_prompt(in, xa, xb, L1, i, c.measures.data() + static_cast<long>(i) * L1);
    c.probe_label.assign(in.probe_label.begin(), in.probe_label.begin() + count);
    c.predictions_a.assign(xa.predictions.begin(), xa.predictions.begin() + count);
    c.predictions_b.assign(xb.predictions.begin(), xb.predictions.begin() + count);
    for (int i = 0; i < count; ++i) {
      const T* y = xa.states.data() + ((static_cast<long>(i) * L1 + L1 - 1) * N1 + source.N) * D + source.d;
      for (int k = 0; k < C; ++k) c.logits.push_back(static_cast<double>(y[k]));
    }
    if (first < validate) {
      const auto start = std::chrono::steady_clock::now();
      WorkingPrecision precision(256);
      for (int i = 0; i < static_cast<int>(std::min<long>(count, validate - first)); ++i)
        c.certified.push_back(certify_prompt(source, a, b, first, i, xa, xb, L1));
      c.certified_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    return c;
  };
  auto run_chunk = [&](long first, int count, PromptBlock<T>& in, BlockOutput<T>& xa, BlockOutput<T>& xb) {
    source.fill(first, count, in);
    run(in, ma, xa);
    run(in, mb, xb);
    return measure_chunk(first, count, in, xa, xb);
  };
  auto take = [&](long first, int count, Chunk&& c) {
    for (int i = 0; i < count; ++i) {
      fold_prompt(c.measures.data() + static_cast<long>(i) * L1, c.probe_label[i] >= 0, L1, r.layers);
      r.predictions_a[first + i] = stored_prediction(c.predictions_a[i]);
      r.predictions_b[first + i] = stored_prediction(c.predictions_b[i]);
      r.undefined_a += c.predictions_a[i] == kNoPrediction;
      r.undefined_b += c.predictions_b[i] == kNoPrediction;
      for (int k = 0; k < C; ++k) r.logits_a[(first + i) * C + k] = c.logits[static_cast<long>(i) * C + k];
    }
    for (auto& m : c.certified) fold_certified(std::move(m), max_deviation, r.certified, r.certified_detail);
    r.certified_seconds += c.certified_seconds;
    progress.update(first + count);
  };
  auto range = [&](long item) { return std::pair{item * chunk, static_cast<int>(std::min<long>(chunk, total - item * chunk))}; };
  const long items = (total + chunk - 1) / chunk;
  if (config.distribute) {
    // Under mpiexec: chunks where the distributor puts them, folded here in order.
    config.distribute(
        items,
        [&](long item) {
          const auto [first, count] = range(item);
          PromptBlock<T> blk;
          BlockOutput<T> xa, xb;
          const Chunk c = run_chunk(first, count, blk, xa, xb);
          std::string s;
          put_vector(s, c.measures);
          put_vector(s, c.probe_label);
          put_vector(s, c.predictions_a);
          put_vector(s, c.predictions_b);
          put_vector(s, c.logits);
          const std::uint64_t n = c.certified.size();
          put_bytes(s, &n, 1);
          for (const auto& m : c.certified) put_certified(s, m);
          put_bytes(s, &c.certified_seconds, 1);
          return s;
        },
        [&](long item, const std::string& s) {
          const auto [first, count] = range(item);
          Chunk c;
          std::size_t at = 0;
          get_vector(s, at, c.measures);
          get_vector(s, at, c.probe_label);
          get_vector(s, at, c.predictions_a);
          get_vector(s, at, c.predictions_b);
          get_vector(s, at, c.logits);
          std::uint64_t n = 0;
          get_bytes(s, at, &n, 1);
          for (std::uint64_t k = 0; k < n; ++k) c.certified.push_back(get_certified(s, at));
          get_bytes(s, at, &c.certified_seconds, 1);
          take(first, count, std::move(c));
        });
  } else if (use_cuda || config.host_pipeline) {
    // On the device, pipelined as batch's run (batch_run.cpp, run_pipelined): one
    // CudaPipeline per model, kept for the whole run (the model and the buffers
    // uploaded and allocated once), two chunk slots each; while the device runs chunk
    // i, the host fills chunk i + 1 and measures (and certifies) chunk i - 1. The
    // chunks are taken in order, so the result is the sequential loop's.
    auto pipelined = [&](auto& pa, auto& pb) {
      PromptBlock<T> blocks[2];
      struct InFlight {
        long first = 0;
        int count = 0;
        bool busy = false;
      } flight[2];
      long next = 0;
      for (int slot = 0; next < total || flight[0].busy || flight[1].busy; slot = 1 - slot) {
        if (next < total) {
          const int count = static_cast<int>(std::min<long>(chunk, total - next));
          source.fill(next, count, blocks[slot]);
          pa.launch(slot, blocks[slot], Detail::with_states);
          pb.launch(slot, blocks[slot], Detail::with_states);
          flight[slot] = {next, count, true};
          next += count;
        }
        InFlight& other = flight[1 - slot];
        if (other.busy) {
          pa.collect(1 - slot, oa, nullptr);
          pb.collect(1 - slot, ob, nullptr);
          take(other.first, other.count, measure_chunk(other.first, other.count, blocks[1 - slot], oa, ob));
          other.busy = false;
        }
      }
    };
    if (use_cuda) {
      const int slot_size = static_cast<int>(std::min<long>(chunk, std::max<long>(total, 1)));
      CudaPipeline<T> pa(ma.view(), source.d, source.C, source.N, slot_size, true);
      CudaPipeline<T> pb(mb.view(), source.d, source.C, source.N, slot_size, true);
      pipelined(pa, pb);
    } else {
      HostPipeline<T> pa(ma.view(), config.threads), pb(mb.view(), config.threads);
      pipelined(pa, pb);
    }
  } else {
    for (long item = 0; item < items; ++item) {
      const auto [first, count] = range(item);
      take(first, count, run_chunk(first, count, block, oa, ob));
    }
  }
  if (validate > 0) finish_certified(max_deviation, r.certified);
  progress.finish();
  r.seconds = progress.elapsed();
  return r;
}

}  // namespace

CompareResult compare_models(const PromptSource& source, const Model& a, const Model& b, const BatchConfig& config) {
  if (config.chunk < 1 || config.threads < 1) throw std::invalid_argument("chunk and threads must be >= 1");
  if (a.layers.size() != b.layers.size())
    throw std::invalid_argument("the models have " + std::to_string(a.layers.size()) + " and " +
                                std::to_string(b.layers.size()) + " layers: compare needs the same depth");
  source.require_finite(config.arith);
  if (config.validate > 0) {
    // Fail before any work when the certified reference cannot run.
    require_runnable<ArbBall>(source.exact(0), a);
    require_runnable<ArbBall>(source.exact(0), b);
  }
  const BackendChoice backend = choose_backend(config, "iclcert compare");
  CompareResult r = config.arith == BatchArith::float32 ? run_typed<float>(source, a, b, config, backend.use_cuda)
                                                        : run_typed<double>(source, a, b, config, backend.use_cuda);
  r.device = backend.device;
  r.backend_notice = backend.notice;
  return r;
}

}  // namespace iclcert::gpu
