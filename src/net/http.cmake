# The HTTP client on the libuv loop (libcurl's multi interface); the Matrix
# transport uses it. Included from src/CMakeLists.txt: include(net/http.cmake)
add_library(careerbot_http STATIC ${CMAKE_CURRENT_LIST_DIR}/http_uv.c)
target_include_directories(careerbot_http PUBLIC ${PROJECT_SOURCE_DIR}/include)
# libuv is public (http_uv.h includes uv.h); libcurl stays behind the header.
target_link_libraries(careerbot_http PUBLIC PkgConfig::LIBUV PRIVATE PkgConfig::LIBCURL)
