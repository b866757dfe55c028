// One attention head, the only place where scores become weights (spec section 3):
//   s_ji = <q_j, k_i>,  A_j = kernel(s_j.),  out_j = sum_i A_ji v_i.
// Every layer form (reduced, full, dense) reduces to this with its own q, k, v.
#pragma once

#include "numerics/matrix.hpp"
#include "numerics/model.hpp"
#include "numerics/scalar.hpp"

#include <span>
#include <stdexcept>
#include <vector>

namespace iclcert {

template <Scalar T>
T dot(std::span<const T> a, std::span<const T> b) {
  T s = from_int<T>(0);
  for (std::size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}

// Row-wise softmax: exp(s_i - m) / sum_k exp(s_k - m) with m a point near the
// largest score. The shift cancels exactly, so it only guards against overflow;
// a backend may supply its own enclosure (ScalarTraits<T>::softmax).
template <Scalar T>
std::vector<T> softmax_weights(std::span<const T> scores) {
  using Tr = ScalarTraits<T>;
  if constexpr (requires { Tr::softmax(scores); }) {
    return Tr::softmax(scores);
  } else if constexpr (!Tr::has_exp) {
    throw std::logic_error(std::string("softmax requested in the ") + Tr::name + " arithmetic, which has no exp");
  } else {
    T m = scores[0];
    for (std::size_t i = 1; i < scores.size(); ++i) m = Tr::max(m, scores[i]);
    m = Tr::shift_point(m);
    std::vector<T> w;
    w.reserve(scores.size());
    T sum = from_int<T>(0);
    for (const T& s : scores) {
      w.push_back(Tr::exp(s - m));
      sum += w.back();
    }
    for (T& v : w) v /= sum;
    return w;
  }
}

// Linear kernel: A_ji = s_ji / n_keys (rational functions only).
template <Scalar T>
std::vector<T> linear_weights(std::span<const T> scores) {
  const T n = from_int<T>(static_cast<long>(scores.size()));
  std::vector<T> w;
  w.reserve(scores.size());
  for (const T& s : scores) w.push_back(s / n);
  return w;
}

template <Scalar T>
std::vector<T> attention_weights(std::span<const T> scores, Kernel kernel) {
  return kernel == Kernel::softmax ? softmax_weights<T>(scores) : linear_weights<T>(scores);
}

// Queries Q: (N+1) x D; keys K and values V: n_keys x D. Writes the attention
// A ((N+1) x n_keys) and returns A V ((N+1) x D).
template <Scalar T>
Matrix<T> attend(const Matrix<T>& Q, const Matrix<T>& K, const Matrix<T>& V, Kernel kernel, Matrix<T>& A) {
  const std::size_t n_keys = K.rows(), D = V.cols();
  A = Matrix<T>(Q.rows(), n_keys);
  Matrix<T> out(Q.rows(), D, from_int<T>(0));
  std::vector<T> scores(n_keys);
  for (std::size_t j = 0; j < Q.rows(); ++j) {
    for (std::size_t i = 0; i < n_keys; ++i) scores[i] = dot<T>(Q.row(j), K.row(i));
    if constexpr (requires(std::span<const T> s, std::span<T> w, std::span<T> o) {
                    ScalarTraits<T>::softmax_attend(s, V, w, o);
                  }) {
      if (kernel == Kernel::softmax) {  // a backend's own enclosure of the whole row
        std::vector<T> w(n_keys);
        ScalarTraits<T>::softmax_attend(std::span<const T>(scores), V, std::span<T>(w), out.row(j));
        for (std::size_t i = 0; i < n_keys; ++i) A(j, i) = w[i];
        continue;
      }
    }
    std::vector<T> w = attention_weights<T>(std::span<const T>(scores), kernel);
    for (std::size_t i = 0; i < n_keys; ++i) {
      A(j, i) = w[i];
      auto v = V.row(i);
      auto o = out.row(j);
      for (std::size_t k = 0; k < D; ++k) o[k] += w[i] * v[k];
    }
  }
  return out;
}

}  // namespace iclcert
