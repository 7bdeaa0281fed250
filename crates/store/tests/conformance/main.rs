//! The conformance suite: every behaviour a service relies on, written once against the
//! repository traits and run on each adapter (ARCHITECTURE §5).
//!
//! Each test below is a generic `async fn(Store)`. The `conformance!` macro runs it as
//! `sqlite::<name>` on a fresh SQLite file, always, and as `mongo::<name>` on a fresh MongoDB
//! database when `HERALD_TEST_MONGODB_URI` is set; without it the mongo tests print `SKIPPED`
//! and return. Only the connection differs between the two.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audience;
mod campaigns;
mod contacts;
mod harness;
mod messages;
mod pagination;
mod refresh_tokens;
mod replies;
mod settings;
mod templates;
mod users;

macro_rules! conformance {
    ($($module:ident :: $test:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let harness = crate::harness::Harness::sqlite().await;
                    crate::$module::$test(harness.store()).await;
                    harness.finish().await;
                }
            )+
        }

        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    let Some(harness) = crate::harness::Harness::mongo(stringify!($test)).await
                    else {
                        return;
                    };
                    crate::$module::$test(harness.store()).await;
                    harness.finish().await;
                }
            )+
        }
    };
}

conformance! {
    users::a_user_round_trips_and_is_found_by_id_and_by_email,
    users::a_second_user_with_the_same_email_is_a_typed_conflict,
    users::updating_a_user_to_a_taken_email_is_a_conflict_and_a_missing_user_is_not_found,
    users::a_disabled_user_stays_disabled_and_users_list_in_pages,
    settings::settings_keep_their_encrypted_token_and_a_phone_number_id_is_unique,
    settings::settings_are_listed_updated_and_deleted,
    contacts::a_contact_round_trips_and_a_duplicate_phone_is_a_conflict,
    contacts::upserting_contacts_by_phone_counts_created_and_updated_and_is_idempotent,
    contacts::an_import_never_clears_an_opt_out,
    contacts::contacts_are_filtered_by_tag_group_opt_out_and_text_and_counted,
    contacts::opting_out_by_phone_keeps_the_first_opt_out_and_can_be_cleared,
    contacts::a_contact_is_found_from_the_wa_id_of_a_webhook,
    contacts::contacts_are_updated_and_deleted,
    templates::upserting_a_template_by_name_and_language_keeps_its_id,
    templates::a_template_status_change_is_stored_and_lists_filter_by_status,
    campaigns::a_campaign_round_trips_and_lists_by_status,
    campaigns::an_oversized_explicit_audience_is_refused,
    campaigns::a_stale_campaign_edit_loses,
    campaigns::status_changes_follow_the_domain_transition_rules,
    campaigns::of_eight_concurrent_starts_exactly_one_succeeds,
    campaigns::a_due_run_is_claimed_by_exactly_one_of_several_schedulers,
    campaigns::a_run_due_longer_ago_than_the_expiry_is_skipped_and_reported,
    campaigns::a_recurring_campaign_moves_to_its_next_occurrence_when_claimed,
    campaigns::a_finished_run_keeps_its_first_ending,
    messages::creating_the_messages_of_a_run_twice_creates_nothing_new,
    messages::exactly_one_of_eight_racing_workers_claims_a_message,
    messages::an_accepted_send_records_its_wamid_and_is_found_by_it,
    messages::a_wamid_belongs_to_one_message_only,
    messages::a_retry_releases_the_claim_and_a_failure_records_the_error,
    messages::an_unknown_outcome_stays_in_sending_and_is_found_as_a_stale_claim,
    messages::a_status_matched_by_message_id_records_the_wamid_and_resolves_an_unknown_outcome,
    messages::status_events_in_shuffled_and_duplicated_order_end_in_the_same_state,
    messages::concurrent_merges_of_the_same_events_end_in_the_same_state,
    messages::unmatched_status_events_are_reported_by_index,
    messages::messages_are_counted_by_status_and_by_error_code_for_a_campaign_and_a_run,
    messages::stopping_cancels_only_the_queued_messages,
    messages::messages_list_with_filters_in_pages,
    replies::a_duplicate_webhook_reply_stores_nothing_new,
    replies::replies_list_by_campaign_contact_and_since,
    pagination::pagination_neither_skips_nor_repeats_while_contacts_are_inserted,
    pagination::pagination_newest_first_is_the_exact_reverse,
    pagination::a_malformed_cursor_is_invalid_input,
    audience::an_audience_unites_explicit_ids_tags_and_groups_without_opted_out_contacts,
    audience::a_100000_contact_audience_streams_in_bounded_pages,
    audience::an_empty_audience_streams_nothing,
    audience::migrating_again_is_harmless,
    refresh_tokens::a_refresh_token_round_trips_by_hash_and_a_duplicate_hash_is_a_conflict,
    refresh_tokens::a_refresh_token_is_consumed_by_exactly_one_of_eight_racing_callers,
    refresh_tokens::revoking_a_family_or_a_user_revokes_only_theirs_and_a_revoked_token_cannot_be_consumed,
    refresh_tokens::expired_refresh_tokens_are_purged_and_live_ones_kept,
}
