// The JSON and CSV files a request names (empty: none): checked before the work,
// written after it, together or not at all (io/output_file.hpp), and not at all
// when the call was cancelled (api/control.hpp).
#pragma once

#include "api/control.hpp"
#include "io/output_file.hpp"

#include <string>

namespace iclcert::api {

class TableOutputs {
 public:
  TableOutputs(const std::string& json_out, const std::string& csv_out) : json_(json_out), csv_(csv_out) {
    outputs_.declare("json_out", json_);
    outputs_.declare("csv_out", csv_);
  }

  void commit(const std::string& json_text, const std::string& csv_text) {
    checkpoint();
    if (!json_.empty()) outputs_.set(json_, json_text);
    if (!csv_.empty()) outputs_.set(csv_, csv_text);
    outputs_.commit();
  }

 private:
  std::string json_, csv_;
  Outputs outputs_;
};

}  // namespace iclcert::api
