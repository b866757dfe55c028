// A table a command prints, as the CSV file of its --csv option
// (docs/formats.md, "Tables as CSV"): a header row, then one row per line of the
// printed table. pandas.read_csv reads it as it is: numbers are plain decimals
// (doubles with the shortest digits that read back as the same double; inf and
// -inf as "inf" and "-inf"), an empty cell is a missing value (NaN), and text
// holding a comma, a double quote or a line break is quoted as RFC 4180 says.
// Lines end in "\n".
#pragma once

#include <string>
#include <vector>

namespace iclcert::api {

class CsvTable {
 public:
  explicit CsvTable(std::vector<std::string> columns);

  // Starts a row; the cells that follow fill it from the left. A row must have
  // as many cells as the header when the next starts or text() is called
  // (std::logic_error otherwise: a bug, not an input error).
  CsvTable& row();
  CsvTable& number(double v);  // NaN: an empty cell
  CsvTable& integer(long long v);
  CsvTable& text(const std::string& v);
  CsvTable& empty();

  const std::vector<std::string>& columns() const { return columns_; }
  std::size_t rows() const { return rows_.size(); }
  std::string text() const;

 private:
  CsvTable& cell(std::string v);
  void check_complete() const;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// A double as CSV writes it: the shortest decimal that reads back as the same
// double, always with a point or an exponent so that pandas reads a float
// ("0.1", "1.0", "1e-300", "inf"); "" for NaN.
std::string csv_number(double v);

// A field quoted per RFC 4180 when it holds a comma, a double quote, CR or LF
// (double quotes inside doubled), or begins or ends with a space; else as it is.
std::string csv_field(const std::string& v);

// A double as 17 significant digits, which read back to the same double (how the
// batch-path commands write floating values, docs/formats.md "Numbers").
std::string round_trip_decimal(double v);

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
