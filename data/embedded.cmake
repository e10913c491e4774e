# Data files compiled into the binary (see ct_embed in CMakeLists.txt), so an
# installed cloudtracker never reads the source tree. ct_embed writes into
# embedded/ of the build tree, which must exist before the first command runs.
file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/embedded)
ct_embed(ct_data_iam_actions data/iam-actions/iam_actions.tsv)
ct_embed(ct_data_iam_resources data/iam-actions/iam_resources.tsv)
ct_embed(ct_data_eventsource_prefix data/cloudtrail/eventsource-prefix.tsv)
ct_embed(ct_data_event_renames data/cloudtrail/event-renames.tsv)
ct_embed(ct_data_event_renames_apigateway data/cloudtrail/event-renames-apigateway.tsv)
ct_embed(ct_data_no_permission data/cloudtrail/no-permission.tsv)
ct_embed(ct_data_not_actions data/cloudtrail/not-actions.tsv)
ct_embed(ct_data_request_dependent data/cloudtrail/request-dependent.tsv)
ct_embed(ct_data_never_logged data/cloudtrail/never-logged.tsv)
ct_embed(ct_data_permission_only data/cloudtrail/permission-only.tsv)
ct_embed(ct_data_data_events data/cloudtrail/data-events.tsv)
ct_embed(ct_data_generic_session_names data/cloudtrail/generic-session-names.tsv)
ct_embed(ct_data_admin_equivalent data/review/admin-equivalent.tsv)
ct_embed(ct_data_resource_params data/cloudtrail/resource-params.tsv)
