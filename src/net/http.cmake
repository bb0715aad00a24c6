# The HTTP client on the libuv loop (libcurl's multi interface); the Matrix
# transport uses it. Included from src/CMakeLists.txt: include(net/http.cmake)
add_library(careerbot_http STATIC ${CMAKE_CURRENT_LIST_DIR}/http_uv.c ${CMAKE_CURRENT_LIST_DIR}/curl_api.c)
target_include_directories(careerbot_http PUBLIC ${PROJECT_SOURCE_DIR}/include)
# libcurl's headers only: the library is loaded at run time (see curl_api.h),
# so processes that never make an HTTP client do not carry it.
target_include_directories(careerbot_http PRIVATE ${LIBCURL_INCLUDE_DIRS})
# libuv is public (http_uv.h includes uv.h).
target_link_libraries(careerbot_http PUBLIC PkgConfig::LIBUV PRIVATE ${CMAKE_DL_LIBS})
