// Turning a detection request into a picture (detect_request.h).
#include "apps/maskdet/detect_request.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "apps/cli/error_message.h"
#include "apps/data/image_header.h"
#include "apps/data_io/image_decode.h"

namespace maskdet::app {

namespace {

// The media type without parameters, lower case: "Image/JPEG; q=1" -> "image/jpeg".
std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

constexpr const char* kHowToSend =
    "send the picture as the body with Content-Type image/jpeg (or image/png, ...; curl: -H 'Content-Type: "
    "image/jpeg' --data-binary @photo.jpg) or as the file field 'image' of a multipart form (curl: -F image=@photo.jpg)";

}  // namespace

std::string_view upload_bytes(const httplib::Request& request) {
  const std::string type = media_type(request.get_header_value("Content-Type"));
  if (type == "multipart/form-data") {
    const auto image = request.files.find("image");
    if (image != request.files.end()) {
      if (image->second.content.empty()) throw RequestError(400, "the form's field 'image' is empty");
      return image->second.content;
    }
    // A form whose only field is a file: what a page's file input sends under another name.
    const auto with_file = std::count_if(request.files.begin(), request.files.end(),
                                         [](const auto& field) { return !field.second.filename.empty(); });
    if (with_file == 1) {
      const auto file = std::find_if(request.files.begin(), request.files.end(),
                                     [](const auto& field) { return !field.second.filename.empty(); });
      if (file->second.content.empty()) throw RequestError(400, "the form's file '" + file->second.filename + "' is empty");
      return file->second.content;
    }
    throw RequestError(400, with_file == 0 ? "the multipart form holds no file: " + std::string(kHowToSend)
                                           : "the multipart form holds several files and none is the field 'image'");
  }
  if (!type.empty() && type.rfind("image/", 0) != 0 && type != "application/octet-stream")
    throw RequestError(415, "a body of type " + type + " is not a picture: " + kHowToSend);
  if (request.body.empty()) throw RequestError(400, "the request body is empty: " + std::string(kHowToSend));
  return request.body;
}

data::RgbImage decode_upload(std::string_view bytes, int64_t max_pixels) {
  std::optional<data::ImageHeader> header;
  try {
    header = data::read_image_header(bytes, "upload");
  } catch (const Error& e) {
    throw RequestError(400, cli::user_message(e));
  }
  if (!header) throw RequestError(400, "the upload is not a JPEG, PNG, BMP or WebP picture");
  const auto too_many = [&](const data::PixelSize& size) {
    return static_cast<int64_t>(size.width) * size.height > max_pixels;
  };
  const auto refuse = [&](const data::PixelSize& size) {
    return RequestError(413, "the " + header->format + " picture has " + std::to_string(size.width) + "x" +
                                 std::to_string(size.height) + " pixels, more than the server's limit of " +
                                 std::to_string(max_pixels) + " (--max-pixels)");
  };
  if (too_many(header->size)) throw refuse(header->size);
  data::RgbImage image;
  try {
    image = data::decode_image_bytes(bytes, "upload");
  } catch (const Error& e) {
    throw RequestError(400, cli::user_message(e));
  }
  if (too_many(image.size())) throw refuse(image.size());  // a header that lied
  return image;
}

}  // namespace maskdet::app
