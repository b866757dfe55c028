// The depth recursion: a prompt through every layer of a model, with the metrics
// of each depth (spec sections 4 and 5). This is the one entry point that every
// command, test and backend uses.
#pragma once

#include "numerics/layer.hpp"
#include "numerics/metrics.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace iclcert {

template <Scalar T>
struct TraceEntry {
  State<T> state;  // after t layers
  Metrics<T> metrics;
  // From layer t + 1 (absent at the last entry); the mean over heads.
  std::optional<T> probe_attention_same_class;  // needs the probe label
  std::optional<T> train_attention_same_class;  // mean over training rows of their own-class mass
};

template <Scalar T>
struct Trace {
  std::vector<TraceEntry<T>> entries;  // entries[t], t = 0..L
};

// Throws std::invalid_argument when the model cannot run on the prompt in this
// arithmetic: dense sizes that do not match d + C, or softmax without exp.
template <Scalar T>
void require_runnable(const Prompt& p, const Model& model) {
  if (model.kernel == Kernel::softmax && !ScalarTraits<T>::has_exp)
    throw std::invalid_argument(
        std::string("the softmax kernel needs exp, and exp of a rational is not rational, so the exact ") +
        ScalarTraits<T>::name +
        " arithmetic cannot run it; use --arith mpfr:BITS for a high-precision reference, or a model "
        "with \"kernel\": \"linear\" for exact results");
  const std::size_t D = static_cast<std::size_t>(p.d + p.C);
  for (std::size_t l = 0; l < model.layers.size(); ++l)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&model.layers[l]))
      for (const auto& h : dense->heads)
        if (h.score.rows() != D || h.value.rows() != D)
          throw std::invalid_argument("layer " + std::to_string(l) + " is dense with matrices of size " +
                                      std::to_string(h.score.rows()) + " but the prompt has d + C = " +
                                      std::to_string(D));
}

// The recursion from a given initial state with a model already in T: what the
// robustness checks use, where coefficients and inputs are enclosures of a box.
// `p` supplies the sizes and the true classes (its numbers are not used).
template <Scalar T>
Trace<T> run_recursion_from(const Prompt& p, State<T> state, const BasicModel<T>& m) {
  const LayerOptions options{m.kernel, m.probe_is_key};
  Trace<T> trace;
  for (std::size_t l = 0; l <= m.layers.size(); ++l) {
    TraceEntry<T> entry{state, compute_metrics(state, p), std::nullopt, std::nullopt};
    if (l < m.layers.size()) {
      LayerResult<T> r = apply_layer(state, m.layers[l], options);
      const T heads = from_int<T>(static_cast<long>(r.attention.size()));
      if (p.probe_label) {
        T mass = from_int<T>(0);
        for (const auto& A : r.attention) mass += class_mass(A, p.N, p.labels, *p.probe_label);
        entry.probe_attention_same_class = mass / heads;
      }
      T own = from_int<T>(0);
      for (const auto& A : r.attention)
        for (int i = 0; i < p.N; ++i) own += class_mass(A, i, p.labels, p.labels[i]);
      entry.train_attention_same_class = own / (heads * from_int<T>(p.N));
      state = std::move(r.next);
      // Exact numbers grow about threefold per layer: stop before the next layer's time explodes.
      if constexpr (std::is_same_v<T, Rational>) require_bounded_size(state.Z.data(), l + 1);
    }
    trace.entries.push_back(std::move(entry));
  }
  return trace;
}

template <Scalar T>
BasicModel<T> model_in(const Model& model) {
  return convert_model(model, [](const Rational& q) { return from_rational<T>(q); });
}

template <Scalar T>
Trace<T> run_recursion(const Prompt& p, const Model& model) {
  require_runnable<T>(p, model);
  const BasicModel<T> m = model_in<T>(model);
  return run_recursion_from<T>(p, initial_state<T>(p, m.probe_label_init), m);
}

}  // namespace iclcert
