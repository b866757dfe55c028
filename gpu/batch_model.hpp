// A model flattened for the batch kernel (batch_kernel.hpp's ModelView): plain
// arrays of one arithmetic, which nvcc-compiled code can take without Boost.
// Full layers become dense heads M(kappa), M(nu) (numerics/model.hpp's
// equivariant_matrix); reduced layers keep their eight coefficients.
#pragma once

#include "gpu/batch_kernel.hpp"
#include "numerics/model.hpp"

#include <vector>

namespace iclcert::gpu {

template <class T>
struct BatchModel {
  int d = 0, C = 0;
  int softmax = 1, probe_is_key = 0, probe_label_uniform = 0;
  std::vector<int> kind, heads, offset;
  std::vector<T> coeffs;

  int layers() const { return static_cast<int>(kind.size()); }
  ModelView<T> view() const {
    return {d, C, layers(), softmax, probe_is_key, probe_label_uniform, kind.data(), heads.data(), offset.data(),
            coeffs.data(), static_cast<long>(coeffs.size())};
  }
};

// Each coefficient rounded to nearest in T (once, from the exact rational).
// Throws std::invalid_argument when a dense layer's size is not d + C.
template <class T>
BatchModel<T> make_batch_model(const Model& model, int d, int C);

// The exact rational rounded to the nearest float (ties to even) in one step.
float nearest_float(const Rational& q);

// q rounded to nearest in the batch path's float type.
template <class T>
T round_to(const Rational& q) {
  if constexpr (sizeof(T) == sizeof(float)) return nearest_float(q);
  else return nearest_double(q);
}

}  // namespace iclcert::gpu
