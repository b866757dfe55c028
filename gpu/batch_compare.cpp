#include "gpu/batch_compare.hpp"

#include "gpu/batch_model.hpp"
#include "gpu/progress.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace iclcert::gpu {
namespace {

template <class T>
void fold_chunk(const PromptBlock<T>& block, const BlockOutput<T>& a, const BlockOutput<T>& b, int L1,
                std::vector<CompareLayer>& layers) {
  const int N1 = block.N + 1, d = block.d, C = block.C, D = d + C;
  for (int i = 0; i < block.count; ++i) {
    for (int t = 0; t < L1; ++t) {
      const long rec = static_cast<long>(i) * L1 + t;
      const T* sa = a.states.data() + rec * N1 * D;
      const T* sb = b.states.data() + rec * N1 * D;
      CompareLayer& l = layers[t];
      if (block.probe_label[i] >= 0) {
        ++l.labelled;
        l.correct_a += a.records[rec].probe_margin > T(0);
        l.correct_b += b.records[rec].probe_margin > T(0);
      }
      l.agree += a.records[rec].prediction == b.records[rec].prediction;
      const long probe = static_cast<long>(block.N) * D + d;
      double scale = 0;
      const double dev = centred_deviation(sa + probe, sb + probe, C, &scale);
      l.max_logit_dev = std::max(l.max_logit_dev, dev);
      l.sum_logit_dev += dev;
      if (scale > 0) {
        l.max_rel_logit_dev = std::max(l.max_rel_logit_dev, dev / scale);
        l.sum_rel_logit_dev += dev / scale;
        ++l.rel_count;
      }
      double xdev = 0, xscale = 1;
      for (int r = 0; r < N1; ++r)
        for (int k = 0; k < d; ++k) {
          xdev = std::max(xdev, std::abs(static_cast<double>(sa[r * D + k]) - static_cast<double>(sb[r * D + k])));
          xscale = std::max(xscale, std::abs(static_cast<double>(sa[r * D + k])));
        }
      l.max_feature_dev = std::max(l.max_feature_dev, xdev / xscale);
    }
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

// `max_deviation[t]`: the running interval max over the prompts so far of the
// enclosures of the centred deviation at depth t (it starts at exactly 0, a lower
// bound of every deviation, so the first prompt needs no special case).
template <class T>
void certify_chunk(const PromptSource& source, const Model& a, const Model& b, long first, int count,
                   const BlockOutput<T>& fa, const BlockOutput<T>& fb, int L1, std::vector<ArbBall>& max_deviation,
                   std::vector<CertifiedLayer>& out, std::vector<CertifiedPrompt>& detail) {
  using Tr = ScalarTraits<ArbBall>;
  WorkingPrecision precision(256);
  for (int i = 0; i < count; ++i) {
    const Prompt p = source.exact(first + i);
    const Trace<ArbBall> ta = run_recursion<ArbBall>(p, a), tb = run_recursion<ArbBall>(p, b);
    for (int t = 0; t < L1; ++t) {
      const auto& sa = ta.entries[t].state;
      const auto& sb = tb.entries[t].state;
      const auto ya = sa.y(sa.probe_row()), yb = sb.y(sb.probe_row());
      const int ca = certified_prediction<ArbBall>(ya), cb = certified_prediction<ArbBall>(yb);
      CertifiedLayer& l = out[t];
      const long rec = static_cast<long>(i) * L1 + t;
      if (ca >= 0 && fa.records[rec].prediction != ca) ++l.float_flips_a;
      if (cb >= 0 && fb.records[rec].prediction != cb) ++l.float_flips_b;
      if (ca >= 0 && cb >= 0) {
        ++l.both_certified;
        (ca == cb ? l.certified_agree : l.certified_disagree) += 1;
      }
      if (t == L1 - 1) {
        CertifiedPrompt d{first + i, {}, {}, ca, cb, fa.records[rec].prediction, fb.records[rec].prediction};
        for (const auto& v : ya) d.logits_a.emplace_back(Tr::lower_string(v), Tr::upper_string(v));
        for (const auto& v : yb) d.logits_b.emplace_back(Tr::lower_string(v), Tr::upper_string(v));
        detail.push_back(std::move(d));
      }
      max_deviation[t] = Tr::max(max_deviation[t], centred_deviation(ya, yb));
    }
  }
  for (int t = 0; t < L1; ++t) {
    CertifiedLayer& l = out[t];
    l.deviation_lo_text = Tr::lower_string(max_deviation[t]);
    l.deviation_hi_text = Tr::upper_string(max_deviation[t]);
    l.deviation_lo = std::strtod(l.deviation_lo_text.c_str(), nullptr);
    l.deviation_hi = std::strtod(l.deviation_hi_text.c_str(), nullptr);
  }
}

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
  auto run = [&](const BatchModel<T>& m, BlockOutput<T>& out) {
    if (use_cuda) {
      const std::string error = run_block_cuda(m.view(), block, Detail::with_states, out);
      if (!error.empty()) throw std::runtime_error("CUDA backend: " + error);
    } else {
      run_block_cpu(m.view(), block, Detail::with_states, config.threads, out);
    }
  };
  for (long first = 0; first < total;) {
    const int count = static_cast<int>(std::min<long>(chunk, total - first));
    source.fill(first, count, block);
    run(ma, oa);
    run(mb, ob);
    fold_chunk(block, oa, ob, L1, r.layers);
    const int D = source.d + source.C, N1 = source.N + 1;
    for (int i = 0; i < count; ++i) {
      r.predictions_a[first + i] = static_cast<std::uint16_t>(oa.predictions[i]);
      r.predictions_b[first + i] = static_cast<std::uint16_t>(ob.predictions[i]);
      const T* y = oa.states.data() + ((static_cast<long>(i) * L1 + L1 - 1) * N1 + source.N) * D + source.d;
      for (int c = 0; c < source.C; ++c) r.logits_a[(first + i) * source.C + c] = static_cast<double>(y[c]);
    }
    if (first < validate) {
      const auto start = std::chrono::steady_clock::now();
      certify_chunk(source, a, b, first, static_cast<int>(std::min<long>(count, validate - first)), oa, ob, L1,
                    max_deviation, r.certified, r.certified_detail);
      r.certified_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    first += count;
    progress.update(first);
  }
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
  if (config.validate > 0) {
    // Fail before any work when the certified reference cannot run.
    require_runnable<ArbBall>(source.exact(0), a);
    require_runnable<ArbBall>(source.exact(0), b);
  }
  const auto [use_cuda, device] = choose_backend(config, "iclcert compare");
  CompareResult r = config.arith == BatchArith::float32 ? run_typed<float>(source, a, b, config, use_cuda)
                                                        : run_typed<double>(source, a, b, config, use_cuda);
  r.device = device;
  return r;
}

}  // namespace iclcert::gpu
