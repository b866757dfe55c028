// A small row-major dense matrix over any scalar.
//
// The core works with (N+1) x (d+C) token matrices and per-head (N+1) x n_keys
// attention; it needs row access and nothing of a linear-algebra library (Eigen
// would need NumTraits for every backend and, with Boost's rationals, does not
// compile: docs/toolchain.md).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace iclcert {

template <class T>
class Matrix {
 public:
  Matrix() = default;
  Matrix(std::size_t rows, std::size_t cols, const T& fill = T()) : rows_(rows), cols_(cols), data_(rows * cols, fill) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  T& operator()(std::size_t r, std::size_t c) { return data_[r * cols_ + c]; }
  const T& operator()(std::size_t r, std::size_t c) const { return data_[r * cols_ + c]; }
  std::span<T> row(std::size_t r) { return {data_.data() + r * cols_, cols_}; }
  std::span<const T> row(std::size_t r) const { return {data_.data() + r * cols_, cols_}; }
  const std::vector<T>& data() const { return data_; }

  template <class F>
  auto map(F&& f) const -> Matrix<decltype(f(std::declval<const T&>()))> {
    Matrix<decltype(f(std::declval<const T&>()))> out(rows_, cols_);
    for (std::size_t r = 0; r < rows_; ++r)
      for (std::size_t c = 0; c < cols_; ++c) out(r, c) = f((*this)(r, c));
    return out;
  }

  friend bool operator==(const Matrix&, const Matrix&) = default;

 private:
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<T> data_;
};

}  // namespace iclcert
