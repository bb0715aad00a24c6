# HTTP client against a Python stdlib server on loopback (http_test_server.py).
# Included from tests/net/CMakeLists.txt: include(http.cmake)
if(NOT TARGET PkgConfig::CMOCKA)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()

add_executable(test_http_uv ${CMAKE_CURRENT_LIST_DIR}/test_http_uv.c)
target_link_libraries(test_http_uv PRIVATE careerbot_http PkgConfig::CMOCKA)
target_compile_definitions(test_http_uv PRIVATE
  HTTP_TEST_SERVER="${CMAKE_CURRENT_LIST_DIR}/http_test_server.py")
add_test(NAME net_http_uv COMMAND test_http_uv)
set_tests_properties(net_http_uv PROPERTIES TIMEOUT 180)
