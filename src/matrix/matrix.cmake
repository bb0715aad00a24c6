# The Matrix transport: [matrix.NAME] settings, /sync parsing, reply
# formatting, the state file and send queue (pure parts), and the network
# glue on the libuv loop. Included from src/CMakeLists.txt:
#   include(matrix/matrix.cmake)
add_library(careerbot_matrix STATIC
  ${CMAKE_CURRENT_LIST_DIR}/matrix_config.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_sync.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_policy.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_format.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_outbox.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_state.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_retry.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_api.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_network.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_batch.c
  ${CMAKE_CURRENT_LIST_DIR}/matrix_sender.c)
target_include_directories(careerbot_matrix PUBLIC ${CMAKE_CURRENT_LIST_DIR}/../../include)
target_link_libraries(careerbot_matrix PUBLIC careerbot_http careerbot_config careerbot_core PkgConfig::JANSSON)
