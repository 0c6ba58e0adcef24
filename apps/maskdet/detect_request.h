// From a `POST /v1/detect` request of `maskdet serve` to the picture it carries: the raw body
// (Content-Type image/..., application/octet-stream or none) or the file of a multipart form
// (the field "image", or the form's only file, as a browser's <input type=file> sends it). The
// picture must be a JPEG, PNG, BMP or WebP; its size is read from its header and refused before
// decoding when it exceeds the pixel limit, so a small file that inflates to gigabytes of pixels
// never gets decoded. Every refusal is a RequestError carrying the HTTP status it answers.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "apps/data/rgb_image.h"
#include "tensor/error.h"

namespace httplib {
struct Request;
}

namespace maskdet::app {

// An answer other than 200: the status and the message of its {"error": ...} body.
class RequestError : public Error {
 public:
  RequestError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// The picture's encoded bytes (a view into the request). 400 for an empty body or a form
// without a file, 415 for a body of another media type.
std::string_view upload_bytes(const httplib::Request& request);

// The picture, decoded as `maskdet detect` decodes files (image_decode.h). 400 when it is not
// one of the four formats, is cut short or cannot be decoded; 413 when it has more than
// max_pixels pixels.
data::RgbImage decode_upload(std::string_view bytes, int64_t max_pixels);

}  // namespace maskdet::app
