//! What users of ElectroDB, DynamoDB-Toolbox, OneTable and PynamoDB rely
//! on, typed, against DynamoDB Local: read-only fields (ElectroDB
//! `readOnly`), unique fields (OneTable `unique`), computed fields
//! (DynamoDB-Toolbox `link`, ElectroDB `watch`), generated, sortable
//! identifiers (OneTable `generate`), hooks, backward pages, read budgets
//! and partition deletes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use dynamo_runtime::{Db, Error};
use dynamo_tests::{fixtures::peer_features as fixture, local_db};
use fixture::accounts::{Account, Event, NewAccount, NewEvent};

/// The process's keyring is one for every test here: the tests that
/// install one take turns.
static KEYRING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn migrated(test: &str) -> Db {
    let db = local_db(test).await;
    fixture::migrations::run(&db).await.unwrap();
    db
}

/// `n` new events of `account`, in the order they were made.
fn events_of(account: &Account, n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            Event::new(NewEvent {
                account_id: account.id.clone(),
                what: format!("event {i}"),
            })
        })
        .collect()
}

fn account(owner: &str) -> Account {
    Account::new(NewAccount {
        owner: owner.into(),
        plan: "free".into(),
    })
}

/// ElectroDB's `readOnly`: the update builder has no action for the field
/// (a compile-fail test, `tests/ui/update_read_only_field.rs`), and a put
/// that would change it on a stored item fails, naming the field, and
/// writes nothing.
#[tokio::test]
async fn a_read_only_field_is_set_once_and_never_changed() {
    let db = migrated("peers_read_only").await;
    let mut a = account("ann");
    a.created_from = Some("signup".into());
    a.put().send(&db).await.unwrap();

    // Other fields change; the same read-only values may be written again.
    let mut same = a.clone();
    same.plan = "pro".into();
    same.put().send(&db).await.unwrap();
    Account::update(a.key())
        .set(|f| f.plan, "team")
        .send(&db)
        .await
        .unwrap();

    let mut changed = a.clone();
    changed.owner = "mallory".into();
    let error = changed.put().send(&db).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::ReadOnly {
                item_type: "Account",
                attribute: "owner",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("`owner`, which is read-only"),
        "{error}"
    );
    // An optional read-only field may not be removed either.
    let mut removed = a.clone();
    removed.created_from = None;
    let error = removed.put().send(&db).await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::ReadOnly {
                attribute: "created_from",
                ..
            }
        ),
        "{error:?}"
    );
    // In a transaction the guard holds too (an event's `what` is
    // read-only; accounts, with a unique field, take no part in
    // transactions of the app's).
    let event = events_of(&a, 1).remove(0);
    event.put().send(&db).await.unwrap();
    let mut rewritten = event.clone();
    rewritten.what = "something else".into();
    let error = db.transact().put(&rewritten).send().await.unwrap_err();
    assert!(
        matches!(&error, Error::TransactionCanceled { .. }),
        "{error:?}"
    );
    let kept = Event::get(event.key()).send(&db).await.unwrap().unwrap();
    assert_eq!(kept.what, event.what);

    let stored = Account::get(a.key()).send(&db).await.unwrap().unwrap();
    assert_eq!(stored.owner, "ann");
    assert_eq!(stored.created_from.as_deref(), Some("signup"));
    assert_eq!(stored.plan, "team");
}

/// OneTable's `generate`: `default = "ulid"` and `default = "v7"` fill new
/// identifiers whose text order is creation order, so items keyed by them
/// come back from a query in the order they were made.
#[tokio::test]
async fn generated_identifiers_sort_in_creation_order() {
    let db = migrated("peers_ids").await;
    let accounts: Vec<Account> = (0..50).map(|i| account(&format!("owner{i}"))).collect();
    assert!(accounts.iter().all(|a| a.id.len() == 26), "ULIDs");
    assert!(
        accounts.windows(2).all(|w| w[0].id < w[1].id),
        "each ULID sorts after the one before"
    );
    let owner = &accounts[0];
    owner.put().send(&db).await.unwrap();
    let events: Vec<Event> = events_of(owner, 200);
    assert!(events.iter().all(|e| e.event_id.get_version_num() == 7));
    // Written in another order; read back in creation order.
    let mut shuffled = events.clone();
    shuffled.reverse();
    Event::batch_put(&shuffled).send(&db).await.unwrap();
    let read: Vec<String> = Event::query(&owner.id)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.what)
        .collect();
    let made: Vec<String> = events.into_iter().map(|e| e.what).collect();
    assert_eq!(read, made);
}

/// DynamoDB-Toolbox's `DeletePartition`: a query's `delete_all` deletes
/// what the query names (one item type's items of the partition, a limited
/// part of them, or every type of a collection), in batches, and says how
/// many.
#[tokio::test]
async fn delete_all_deletes_what_the_query_names() {
    use fixture::accounts::AccountAll;
    let db = migrated("peers_delete_all").await;
    let owner = account("ann");
    owner.put().send(&db).await.unwrap();
    let other = account("bob");
    other.put().send(&db).await.unwrap();
    let mine = events_of(&owner, 60);
    Event::batch_put(&mine).send(&db).await.unwrap();
    Event::batch_put(&events_of(&other, 3))
        .send(&db)
        .await
        .unwrap();

    // The oldest ten.
    let deleted = Event::query(&owner.id)
        .limit(10)
        .delete_all(&db)
        .await
        .unwrap();
    assert_eq!(deleted, 10);
    let left: Vec<Event> = Event::query(&owner.id).all(&db).await.unwrap();
    assert_eq!(left, mine[10..]);

    // The rest of the account's events, over two batches; the account and
    // the other account's events stay.
    assert_eq!(Event::query(&owner.id).delete_all(&db).await.unwrap(), 50);
    assert!(Event::query(&owner.id).all(&db).await.unwrap().is_empty());
    assert!(Account::get(owner.key()).send(&db).await.unwrap().is_some());
    assert_eq!(Event::query(&other.id).count(&db).await.unwrap(), 3);

    // Every item type of the partition, through the collection.
    assert_eq!(
        AccountAll::query(&other.id).delete_all(&db).await.unwrap(),
        4
    );
    assert!(
        AccountAll::query(&other.id)
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
    let rest: Vec<AccountAll> = AccountAll::query(&owner.id).all(&db).await.unwrap();
    assert_eq!(rest.len(), 1, "ann's account");
}

/// PynamoDB's `rate_limit`: a read budget paces queries, counts and scans
/// by the capacity DynamoDB reports, shared by everything given it; the
/// results are those of an unpaced read.
#[tokio::test]
async fn reads_keep_to_a_shared_read_budget() {
    use dynamo_runtime::ReadBudget;
    let db = migrated("peers_budget").await;
    let owner = account("ann");
    owner.put().send(&db).await.unwrap();
    let events: Vec<Event> = events_of(&owner, 60);
    Event::batch_put(&events).send(&db).await.unwrap();
    assert!(ReadBudget::per_second(0.0).is_err());

    let rate = 4.0;
    let budget = ReadBudget::per_second(rate).unwrap();
    let started = std::time::Instant::now();
    let paced = Event::query(&owner.id)
        .page_size(10)
        .rate_limit(&budget)
        .all(&db)
        .await
        .unwrap();
    let counted = Event::query(&owner.id)
        .page_size(10)
        .rate_limit(&budget)
        .count(&db)
        .await
        .unwrap();
    let scanned = Event::scan()
        .page_size(10)
        .rate_limit(&budget)
        .parallel(3)
        .all(&db)
        .await
        .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(paced, events, "the same items as an unpaced read");
    assert_eq!(counted, 60);
    assert_eq!(scanned.len(), 60);
    // Each page of at most ten small items costs at most one unit: every
    // unit but the last request's was paid back at the rate before the
    // next request went out.
    let consumed = budget.consumed();
    assert!(consumed >= 6.0, "{consumed} units reported");
    assert!(
        elapsed >= (consumed - 1.0) / rate,
        "{consumed} units in {elapsed:.2} s at {rate} units/s"
    );
    assert!(budget.paused() > std::time::Duration::ZERO);
}

/// OneTable's `prev`: a page's `before` reads the page before it, in the
/// query's order (ascending and descending), and that page's cursors lead
/// forward and further back.
#[tokio::test]
async fn a_page_before_reads_backward_in_the_query_order() {
    let db = migrated("peers_before").await;
    let owner = account("ann");
    let events: Vec<Event> = events_of(&owner, 25);
    Event::batch_put(&events).send(&db).await.unwrap();
    let what = |page: &dynamo_runtime::Page<Event>| -> Vec<String> {
        page.items.iter().map(|e| e.what.clone()).collect()
    };
    let expect = |range: std::ops::Range<usize>| -> Vec<String> {
        events[range].iter().map(|e| e.what.clone()).collect()
    };
    let q = || Event::query(&owner.id).limit(10);

    let after = |c: Option<dynamo_runtime::Cursor>| {
        let query = q().after(c.unwrap());
        let db = &db;
        async move { query.send(db).await }
    };
    let before = |c: Option<dynamo_runtime::Cursor>| {
        let query = q().before(c.unwrap());
        let db = &db;
        async move { query.send(db).await }
    };

    let first = q().send(&db).await.unwrap();
    assert_eq!(what(&first), expect(0..10));
    assert_eq!(first.before, None, "the first page starts the results");
    let second = after(first.cursor.clone()).await.unwrap();
    assert_eq!(what(&second), expect(10..20));
    let third = after(second.cursor.clone()).await.unwrap();
    assert_eq!(what(&third), expect(20..25));

    // Back from the third page: the second, then the first, in order.
    let back = before(third.before.clone()).await.unwrap();
    assert_eq!(what(&back), expect(10..20));
    let back2 = before(back.before.clone()).await.unwrap();
    assert_eq!(what(&back2), expect(0..10));
    // Forward again from a page read backward.
    let forward = after(back2.cursor.clone()).await.unwrap();
    assert_eq!(what(&forward), expect(10..20));
    // Before the first item there is nothing.
    if let Some(start) = back2.before.clone() {
        let none = q().before(start).send(&db).await.unwrap();
        assert!(none.items.is_empty());
        assert_eq!(none.before, None);
    }
    // A smaller page back takes the items just before the cursor.
    let two = Event::query(&owner.id)
        .limit(2)
        .before(third.before.clone().unwrap())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(what(&two), expect(18..20));

    // Descending: the page before is the later items, still descending.
    let desc = || Event::query(&owner.id).descending().limit(10);
    let d1 = desc().send(&db).await.unwrap();
    let d2 = desc()
        .after(d1.cursor.clone().unwrap())
        .send(&db)
        .await
        .unwrap();
    let d_back = desc()
        .before(d2.before.clone().unwrap())
        .send(&db)
        .await
        .unwrap();
    assert_eq!(what(&d_back), what(&d1));

    // Only `send` reads backward.
    let error = q()
        .before(third.before.unwrap())
        .all(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(error, dynamo_runtime::Error::InvalidRequest { .. }),
        "{error:?}"
    );
}

/// Hooks (Java Enhanced Client extensions, Dynamoid callbacks, PynamoDB
/// signals): an item type's `ItemHooks` (with `hooks = true`) run before
/// every write of a whole item and after every read, and a `Db`'s
/// `DbHooks` around every request, typed by operation, table and item
/// type.
#[tokio::test]
async fn item_and_db_hooks_run_around_writes_reads_and_requests() {
    use std::sync::{Arc, Mutex, atomic::Ordering};

    use dynamo_runtime::{DbHooks, Operation, Received, Sending};
    use dynamo_tests::note_hooks::WRITTEN;
    use fixture::accounts::Note;

    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);
    impl DbHooks for Recorder {
        fn before_send(&self, r: &Sending<'_>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("send {} {}", r.operation, r.item_type));
        }
        fn after_receive(&self, r: &Received<'_>) {
            let outcome = if r.succeeded { "ok" } else { "failed" };
            self.0
                .lock()
                .unwrap()
                .push(format!("receive {} {outcome}", r.operation));
            assert!(r.table.ends_with("accounts"), "{}", r.table);
        }
    }

    let recorder = Recorder::default();
    let db = migrated("peers_hooks").await.with_hooks(recorder.clone());
    let note = |id: &str, body: &str| Note {
        id: id.into(),
        body: body.into(),
        unmodeled: Default::default(),
    };

    let before = WRITTEN.load(Ordering::SeqCst);
    note("n1", "hello").put().send(&db).await.unwrap();
    Note::batch_put(&[note("n2", "a"), note("n3", "b")])
        .send(&db)
        .await
        .unwrap();
    db.transact().put(&note("n4", "c")).send().await.unwrap();
    assert_eq!(
        WRITTEN.load(Ordering::SeqCst) - before,
        4,
        "every put ran the hook"
    );

    // A refused write sends nothing: not alone, not in a batch.
    let error = note("n5", "my secret").put().send(&db).await.unwrap_err();
    assert!(
        matches!(
            &error,
            dynamo_runtime::Error::Hook {
                item_type: "Note",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("note n5 holds a secret"),
        "{error}"
    );
    let error = Note::batch_put(&[note("n6", "fine"), note("n7", "secret")])
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(error, dynamo_runtime::Error::Hook { .. }),
        "{error:?}"
    );
    for id in ["n5", "n6", "n7"] {
        let key = fixture::accounts::NoteKey { id: id.into() };
        assert!(Note::get(key).send(&db).await.unwrap().is_none(), "{id}");
    }

    // Another writer's untidy note reads back tidied, by get and query.
    use aws_sdk_dynamodb::types::AttributeValue;
    db.client()
        .put_item()
        .table_name(db.physical_name("accounts"))
        .item("pk", AttributeValue::S("NOTE#n8".into()))
        .item("sk", AttributeValue::S("NOTE".into()))
        .item("_type", AttributeValue::S("Note".into()))
        .item("id", AttributeValue::S("n8".into()))
        .item("body", AttributeValue::S("  untidy  ".into()))
        .send()
        .await
        .unwrap();
    let key = fixture::accounts::NoteKey { id: "n8".into() };
    assert_eq!(
        Note::get(key).send(&db).await.unwrap().unwrap().body,
        "untidy"
    );
    assert_eq!(Note::query("n8").all(&db).await.unwrap()[0].body, "untidy");

    // The Db's hooks saw each request, in order, typed.
    let seen = recorder.0.lock().unwrap().clone();
    assert_eq!(
        seen[..6],
        [
            "send PutItem Note",
            "receive PutItem ok",
            "send BatchWriteItem Note",
            "receive BatchWriteItem ok",
            "send TransactWriteItems ",
            "receive TransactWriteItems ok",
        ]
    );
    assert!(seen.contains(&format!("send {} Note", Operation::Query)));
    // A failed conditional write is received as failed.
    recorder.0.lock().unwrap().clear();
    let _ = note("n1", "again")
        .put()
        .if_not_exists()
        .send(&db)
        .await
        .unwrap_err();
    assert_eq!(
        *recorder.0.lock().unwrap(),
        ["send PutItem Note", "receive PutItem failed"]
    );
}

/// OneTable's `unique`: an account handle belongs to one account. Puts
/// and deletes keep a marker item per value in the same transaction; a
/// duplicate is `Error::Unique` and writes nothing; markers never show up
/// in typed reads.
#[tokio::test]
async fn a_unique_field_belongs_to_one_item() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dynamo_runtime::Error;
    let db = migrated("peers_unique").await;
    let markers = || async {
        let out = db
            .client()
            .scan()
            .table_name(db.physical_name("accounts"))
            .filter_expression("#t = :m")
            .expression_attribute_names("#t", "_type")
            .expression_attribute_values(":m", AttributeValue::S("_unique".into()))
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = out
            .items()
            .iter()
            .map(|i| i["pk"].as_s().unwrap().clone())
            .collect();
        keys.sort();
        keys
    };
    let with_handle = |owner: &str, handle: &str| {
        let mut a = account(owner);
        a.handle = Some(handle.into());
        a
    };

    let mut ann = with_handle("ann", "ann");
    ann.put().send(&db).await.unwrap();
    ann.put().send(&db).await.unwrap(); // the same item again: its own value
    let bob = with_handle("bob", "ann");
    let error = bob.put().send(&db).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unique { item_type: "Account", attribute: "handle", value, .. } if value == "ann"),
        "{error:?}"
    );
    assert!(
        Account::get(bob.key()).send(&db).await.unwrap().is_none(),
        "nothing written"
    );
    assert_eq!(markers().await, ["_unique#Account#handle#ann"]);

    // A write that fails for its own condition leaves no marker either.
    let mut taken = ann.clone();
    taken.handle = Some("zed".into());
    let error = taken.put().if_not_exists().send(&db).await.unwrap_err();
    assert!(matches!(error, Error::ConditionFailed { .. }), "{error:?}");
    assert_eq!(markers().await, ["_unique#Account#handle#ann"]);

    // A new value frees the old one, in the same transaction.
    ann.handle = Some("annie".into());
    ann.put().send(&db).await.unwrap();
    assert_eq!(markers().await, ["_unique#Account#handle#annie"]);
    bob.put().send(&db).await.unwrap();
    assert_eq!(
        markers().await,
        ["_unique#Account#handle#ann", "_unique#Account#handle#annie"]
    );

    // Updates keep the markers too: to a taken value (refused, nothing
    // written), to a free one (moved), and removed (freed).
    let error = Account::update(ann.key())
        .set(|f| f.handle, "ann")
        .send(&db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Unique {
                attribute: "handle",
                ..
            }
        ),
        "{error:?}"
    );
    let updated = Account::update(ann.key())
        .set(|f| f.handle, "anne")
        .send(&db)
        .await
        .unwrap();
    assert_eq!(updated.handle.as_deref(), Some("anne"));
    assert_eq!(
        markers().await,
        ["_unique#Account#handle#ann", "_unique#Account#handle#anne"]
    );
    Account::update(ann.key())
        .remove(|f| f.handle)
        .send(&db)
        .await
        .unwrap();
    assert_eq!(markers().await, ["_unique#Account#handle#ann"]);
    ann = Account::update(ann.key())
        .set(|f| f.handle, "annie")
        .send(&db)
        .await
        .unwrap();
    let missing = Account::update(account("nobody").key())
        .set(|f| f.handle, "nobody")
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
    assert_eq!(markers().await.len(), 2, "no marker for a missing item");

    // Deleting the item frees its value; markers are never read as items.
    Account::delete(ann.key()).send(&db).await.unwrap();
    assert_eq!(markers().await, ["_unique#Account#handle#ann"]);
    with_handle("cat", "annie").put().send(&db).await.unwrap();
    let all = Account::scan().all(&db).await.unwrap();
    assert_eq!(all.len(), 2, "bob and cat, no markers");
    // An item without the value has no marker.
    account("dan").put().send(&db).await.unwrap();
    assert_eq!(markers().await.len(), 2);

    // Batches and your own transactions cannot keep markers: refused.
    let error = Account::batch_put(&[with_handle("eve", "eve")])
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    let error = db
        .transact()
        .put(&with_handle("eve", "eve"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
}

/// The stored attributes of person `id`, read raw.
async fn stored_person(db: &Db, id: &str) -> std::collections::HashMap<String, String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let out = db
        .client()
        .get_item()
        .table_name(db.physical_name("accounts"))
        .key("pk", AttributeValue::S(format!("PERSON#{id}")))
        .key("sk", AttributeValue::S("PERSON".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
        .collect()
}

/// DynamoDB-Toolbox's `link` and ElectroDB's `watch`: a computed field is
/// rendered from other fields at every put, and an update that sets one of
/// its fields takes the others (checked against the stored item) and
/// renders it again. A filter on the lower-case copy finds any spelling.
#[tokio::test]
async fn computed_fields_follow_the_fields_they_render_from() {
    use fixture::accounts::{NewPerson, Person, PersonKey};
    let db = migrated("peers_computed").await;
    let mut jane = Person::new(NewPerson {
        id: "p1".into(),
        first: "Jane".into(),
        last: "Doe".into(),
    });
    // `new` renders them already; the struct's own values never reach the
    // table (a put renders them again).
    assert_eq!(jane.search, "doe jane");
    assert_eq!(jane.label, "p1: Jane DOE");
    assert_eq!(jane.email_key, None);
    jane.search = "tampered".into();
    jane.email = Some("Jane.Doe@Example.COM".into());
    jane.put().send(&db).await.unwrap();
    let stored = stored_person(&db, "p1").await;
    assert_eq!(stored["search"], "doe jane");
    assert_eq!(stored["label"], "p1: Jane DOE");
    assert_eq!(stored["email_key"], "jane.doe@example.com");

    // An update renders them again from the key, the new value and the
    // stored values it is given.
    let key = || PersonKey { id: "p1".into() };
    Person::update(key())
        .set_first("Janet", "Doe")
        .send(&db)
        .await
        .unwrap();
    let stored = stored_person(&db, "p1").await;
    assert_eq!(stored["first"], "Janet");
    assert_eq!(stored["search"], "doe janet");
    assert_eq!(stored["label"], "p1: Janet DOE");
    // Given a value that is not the stored one, nothing is written.
    let error = Person::update(key())
        .set_first("Jo", "Smith")
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StaleKeyField { .. }), "{error:?}");
    assert_eq!(stored_person(&db, "p1").await["search"], "doe janet");
    // Removing a field removes what renders from it.
    Person::update(key())
        .remove_email()
        .send(&db)
        .await
        .unwrap();
    let stored = stored_person(&db, "p1").await;
    assert!(!stored.contains_key("email_key"), "{stored:?}");
    Person::update(key())
        .set_email("J@X.org")
        .send(&db)
        .await
        .unwrap();
    assert_eq!(stored_person(&db, "p1").await["email_key"], "j@x.org");

    // A case-insensitive search: a filter on the lower-case copy.
    Person::new(NewPerson {
        id: "p2".into(),
        first: "JOHN".into(),
        last: "DOE-SMITH".into(),
    })
    .put()
    .send(&db)
    .await
    .unwrap();
    let mut found: Vec<String> = Person::scan()
        .filter(|f| f.search.begins_with("doe"))
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.search)
        .collect();
    found.sort();
    assert_eq!(found, ["doe janet", "doe-smith john"]);

    // A computed field as an index's key: a case-insensitive lookup, kept
    // current by updates of the fields it renders from.
    let by_search = |text: &str| {
        let text = text.to_lowercase();
        let db = db.clone();
        async move {
            Person::query_by_search(&text)
                .fetch_items(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(by_search("DOE-Smith JOHN").await, ["p2"]);
    Person::update(PersonKey { id: "p2".into() })
        .set_last("Roe", "JOHN")
        .send(&db)
        .await
        .unwrap();
    assert!(by_search("doe-smith john").await.is_empty());
    assert_eq!(by_search("ROE JOHN").await, ["p2"]);
}

/// A computed field added to a type with stored items: `migration new`
/// wrote a backfill of it (migration 0005 of the fixture). Before the
/// backfill reaches an item, reads render the value the item lacks; after
/// it, the item stores it (for filters and other readers of the table).
#[tokio::test]
async fn a_new_computed_field_reads_at_once_and_is_backfilled() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use fixture::accounts::{Person, PersonKey};
    let db = local_db("peers_computed_backfill").await;
    fixture::migrations::migrator(&db)
        .to(4)
        .run()
        .await
        .unwrap();
    // People stored by the previous version: no `search`.
    for (id, first, last) in [("p1", "Ada", "Lovelace"), ("p2", "Alan", "TURING")] {
        db.client()
            .put_item()
            .table_name(db.physical_name("accounts"))
            .item("pk", AttributeValue::S(format!("PERSON#{id}")))
            .item("sk", AttributeValue::S("PERSON".into()))
            .item("_type", AttributeValue::S("Person".into()))
            .item("id", AttributeValue::S(id.into()))
            .item("first", AttributeValue::S(first.into()))
            .item("last", AttributeValue::S(last.into()))
            .item("label", AttributeValue::S(format!("{id}: {first}")))
            .send()
            .await
            .unwrap();
    }
    let p1 = Person::get(PersonKey { id: "p1".into() })
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p1.search, "lovelace ada");
    // A stored computed value is read as stored (another writer's).
    assert_eq!(p1.label, "p1: Ada");
    assert!(!stored_person(&db, "p2").await.contains_key("search"));

    let report = fixture::migrations::migrator(&db)
        .to(5)
        .run()
        .await
        .unwrap();
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert_eq!(stored_person(&db, "p1").await["search"], "lovelace ada");
    assert_eq!(stored_person(&db, "p2").await["search"], "turing alan");
}

/// An empty schema folder (with its `migrations/`).
fn schema_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    dir
}

/// `dynamo-codegen migration new NAME` on the schemas of `dir`.
fn migration_new(dir: &std::path::Path, name: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cli"))
        .arg("--schemas")
        .arg(dir)
        .args(["migration", "new", name])
        .output()
        .unwrap()
}

/// A schema folder of one table holding people, `extra` added to their
/// fields.
const PEOPLE: &str = r#"
[table]
name = "people"
partition_key = "pk"

[item.Person.keys]
pk = "PERSON#{id}"

[item.Person.fields]
id = "string"
first = "string"
last = "string"
email = { type = "string", optional = true }
"#;

/// `migration new` plans a computed field like an index key: added, or
/// its template changed, it writes a backfill of the template (the
/// fixture's migration 0005 is one, run end to end above); encrypting a
/// stored field is refused, as its items would need rewriting.
#[test]
fn migration_new_backfills_new_and_changed_computed_fields() {
    let dir = schema_folder();
    let write = |extra: &str| {
        std::fs::write(dir.path().join("people.toml"), format!("{PEOPLE}{extra}\n")).unwrap();
    };
    let new = |name: &str| migration_new(dir.path(), name);
    let planned = |name: &str| {
        let out = new(name);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = format!("{}.toml", name.replace(' ', "_"));
        let found = std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(&file))
            .unwrap();
        std::fs::read_to_string(found).unwrap()
    };
    write("");
    planned("create people");

    write(r#"search = { type = "string", computed = "{last:lower} {first:lower}" }"#);
    let added = planned("person search");
    assert!(
        added.contains("op = \"backfill\"")
            && added.contains("[step.computed]\nsearch = \"{last:lower} {first:lower}\""),
        "{added}"
    );
    assert!(
        added.contains("computed = \"{last:lower} {first:lower}\""),
        "define_item records the template: {added}"
    );

    write(r#"search = { type = "string", computed = "{first:lower} {last:lower}" }"#);
    let changed = planned("search by first name");
    assert!(
        changed.contains("[step.computed]\nsearch = \"{first:lower} {last:lower}\""),
        "{changed}"
    );

    // Nothing changed: nothing to write.
    let out = new("again");
    assert!(out.status.success());
    assert!(!dir.path().join("migrations/0004_again.toml").exists());

    // Encrypting a stored field changes how its items are stored: refused
    // without a transform.
    std::fs::write(
        dir.path().join("people.toml"),
        format!(
            "{}search = {{ type = \"string\", computed = \"{{first:lower}} {{last:lower}}\" }}\n",
            PEOPLE.replace(
                "email = { type = \"string\", optional = true }",
                "email = { type = \"string\", optional = true, encrypted = true }",
            )
        ),
    )
    .unwrap();
    let out = new("encrypt emails");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("email") && text.contains("encrypted"),
        "{text}"
    );
}

/// DynamoDB-Toolbox's `anyOf` with a discriminator, PynamoDB's
/// polymorphic maps: a field whose value is one of several nested types,
/// a Rust enum, stored as a map whose `kind` names the variant, in a list
/// or alone. Validation reaches inside the variant; a stored value whose
/// tag names no variant (another writer's) is a typed decode error naming
/// the attribute and the tags it could have been.
#[tokio::test]
async fn a_tagged_union_stores_each_variant_as_a_tagged_map() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use fixture::accounts::{EventDetail, EventKey, Login, NoteDetail, Payment, PaymentCurrency};
    let db = migrated("peers_union").await;
    let a = account("ann");
    let mut event = events_of(&a, 1).remove(0);
    let login = Login {
        ip: "10.0.0.1".into(),
        at: dynamo_runtime::Timestamp::from_second(1_700_000_000).unwrap(),
    };
    let payment = Payment {
        amount_cents: 1250,
        currency: PaymentCurrency::Eur,
    };
    event.details = vec![
        login.clone().into(),
        EventDetail::Payment(payment.clone()),
        EventDetail::NoteDetail(NoteDetail {
            text: "hello".into(),
            tags: vec!["a".into()],
        }),
    ];
    event.cause = Some(EventDetail::Login(login.clone()));
    event.put().send(&db).await.unwrap();
    let key = EventKey {
        account_id: event.account_id.clone(),
        event_id: event.event_id,
    };
    let read = fixture::accounts::Event::get(key.clone())
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, event);
    assert_eq!(read.details[1].tag(), "payment");

    // As stored: each value a map whose `kind` names its variant.
    let raw = db
        .client()
        .get_item()
        .table_name(db.physical_name("accounts"))
        .key("pk", AttributeValue::S(format!("ACCOUNT#{}", a.id)))
        .key("sk", AttributeValue::S(format!("EVENT#{}", event.event_id)))
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    let kinds: Vec<&str> = item["details"]
        .as_l()
        .unwrap()
        .iter()
        .map(|d| d.as_m().unwrap()["kind"].as_s().unwrap().as_str())
        .collect();
    assert_eq!(kinds, ["login", "payment", "note"]);
    let cause = item["cause"].as_m().unwrap();
    assert_eq!(cause["kind"].as_s().unwrap(), "login");
    assert_eq!(cause["ip"].as_s().unwrap(), "10.0.0.1");

    // Updates append variants, checked by their own rules.
    let append = |amount_cents: u64| {
        fixture::accounts::Event::update(key.clone()).append(
            |f| f.details,
            [EventDetail::from(Payment {
                amount_cents,
                currency: PaymentCurrency::Usd,
            })],
        )
    };
    append(5).send(&db).await.unwrap();
    let error = append(0).send(&db).await.unwrap_err();
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    let stored = fixture::accounts::Event::get(key.clone())
        .send(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.details.len(), 4, "the refused append wrote nothing");
    let mut bad = event.clone();
    bad.cause = Some(EventDetail::Payment(Payment {
        amount_cents: 0,
        currency: PaymentCurrency::Eur,
    }));
    let error = bad.put().send(&db).await.unwrap_err();
    assert!(matches!(error, Error::Validation(_)), "{error:?}");

    // Another writer's value of a shape the schema does not know.
    db.client()
        .update_item()
        .table_name(db.physical_name("accounts"))
        .key("pk", AttributeValue::S(format!("ACCOUNT#{}", a.id)))
        .key("sk", AttributeValue::S(format!("EVENT#{}", event.event_id)))
        .update_expression("SET #c = :c")
        .expression_attribute_names("#c", "cause")
        .expression_attribute_values(
            ":c",
            AttributeValue::M([("kind".to_owned(), AttributeValue::S("refund".into()))].into()),
        )
        .send()
        .await
        .unwrap();
    let error = fixture::accounts::Event::get(key)
        .send(&db)
        .await
        .unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(decode.attribute, "cause");
    let message = error.to_string();
    assert!(
        message.contains("refund") && message.contains("login") && message.contains("note"),
        "{message}"
    );
}

/// OneTable's `crypt`: an encrypted field is stored sealed (AES-256-GCM,
/// the key's id stored with it), read back decrypted, set by updates
/// through its own setter (checked by its rules first), and read with an
/// older key after a rotation while new writes use the current one. A
/// value whose key the keyring lacks, or whose bytes changed, is a typed
/// decode error naming the attribute.
#[tokio::test]
async fn encrypted_fields_are_sealed_at_rest_and_read_back() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dynamo_runtime::{Bytes, CryptError, DecodeErrorKind, Keyring, stored_key_id};
    use fixture::accounts::{NewPerson, Person, PersonKey};
    let (first, second) = ([11u8; 32], [22u8; 32]);
    let _turn = KEYRING.lock().await;
    Keyring::new("2025-01", first).unwrap().install();
    let db = migrated("peers_encrypted").await;
    let stored = |id: &'static str| {
        let db = db.clone();
        async move {
            db.client()
                .get_item()
                .table_name(db.physical_name("accounts"))
                .key("pk", AttributeValue::S(format!("PERSON#{id}")))
                .key("sk", AttributeValue::S("PERSON".into()))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item()
                .unwrap()
                .clone()
        }
    };
    let key = || PersonKey { id: "s1".into() };
    let mut p = Person::new(NewPerson {
        id: "s1".into(),
        first: "Sam".into(),
        last: "Vault".into(),
    });
    p.ssn = Some("123-45-6789".into());
    p.passport_scan = Some(Bytes(vec![0, 1, 2, 255]));
    p.put().send(&db).await.unwrap();

    let raw = stored("s1").await;
    let sealed = raw["ssn"].as_b().unwrap().as_ref().to_vec();
    assert_eq!(stored_key_id(&sealed), Some("2025-01"));
    assert!(!sealed.windows(11).any(|w| w == b"123-45-6789"));
    assert!(raw["passport_scan"].as_b().is_ok());
    let read = Person::get(key()).send(&db).await.unwrap().unwrap();
    assert_eq!(read, p);

    // Updates seal through the field's setter; its rules apply first.
    Person::update(key())
        .set_ssn("987-65-4321")
        .when(|f| f.ssn.exists())
        .send(&db)
        .await
        .unwrap();
    let error = Person::update(key())
        .set_ssn("not a number")
        .send(&db)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Validation(_)), "{error:?}");
    Person::update(key())
        .remove_passport_scan()
        .send(&db)
        .await
        .unwrap();
    let read = Person::get(key()).send(&db).await.unwrap().unwrap();
    assert_eq!(read.ssn.as_deref(), Some("987-65-4321"));
    assert_eq!(read.passport_scan, None);

    // Rotation: the old key still reads; a write seals with the new one.
    Keyring::new("2026-11", second)
        .unwrap()
        .with_key("2025-01", first)
        .unwrap()
        .install();
    let read = Person::get(key()).send(&db).await.unwrap().unwrap();
    assert_eq!(read.ssn.as_deref(), Some("987-65-4321"));
    read.put().send(&db).await.unwrap();
    let resealed = stored("s1").await["ssn"].as_b().unwrap().as_ref().to_vec();
    assert_eq!(stored_key_id(&resealed), Some("2026-11"));

    // A keyring without the value's key, and changed bytes: typed errors.
    Keyring::new("2027-01", [33; 32]).unwrap().install();
    let error = Person::get(key()).send(&db).await.unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(decode.attribute, "ssn");
    assert_eq!(
        decode.kind,
        DecodeErrorKind::Encryption(CryptError::UnknownKey {
            key_id: "2026-11".into()
        })
    );
    Keyring::new("2026-11", second).unwrap().install();
    let mut tampered = resealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    db.client()
        .update_item()
        .table_name(db.physical_name("accounts"))
        .key("pk", AttributeValue::S("PERSON#s1".into()))
        .key("sk", AttributeValue::S("PERSON".into()))
        .update_expression("SET ssn = :s")
        .expression_attribute_values(
            ":s",
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(tampered)),
        )
        .send()
        .await
        .unwrap();
    let error = Person::get(key()).send(&db).await.unwrap_err();
    assert!(
        matches!(&error, Error::Decode(d) if d.kind == DecodeErrorKind::Encryption(CryptError::Failed { key_id: "2026-11".into() })),
        "{error:?}"
    );
    assert!(error.to_string().contains("ssn"), "{error}");
}

mod properties {
    use dynamo_runtime::{Bytes, Item, Keyring, Timestamp};
    use proptest::prelude::*;

    use super::{KEYRING, fixture};
    use fixture::accounts::{
        Event, EventDetail, Login, NewEvent, NewPerson, NoteDetail, Payment, PaymentCurrency,
        Person,
    };

    fn detail() -> impl Strategy<Value = EventDetail> {
        prop_oneof![
            (any::<String>(), -62_000_000_000i64..250_000_000_000).prop_map(|(ip, at)| {
                EventDetail::Login(Login {
                    ip,
                    at: Timestamp::from_second(at).unwrap(),
                })
            }),
            (1u64.., any::<bool>()).prop_map(|(amount_cents, eur)| {
                EventDetail::Payment(Payment {
                    amount_cents,
                    currency: if eur {
                        PaymentCurrency::Eur
                    } else {
                        PaymentCurrency::Usd
                    },
                })
            }),
            (
                any::<String>(),
                proptest::collection::vec(any::<String>(), 0..3)
            )
                .prop_map(|(text, tags)| EventDetail::NoteDetail(NoteDetail { text, tags })),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any union values, in a list and alone, are stored so that they
        /// read back as the same values.
        #[test]
        fn union_values_read_back(
            details in proptest::collection::vec(detail(), 0..5),
            cause in proptest::option::of(detail()),
        ) {
            let mut event = Event::new(NewEvent { account_id: "a".into(), what: "w".into() });
            event.details = details;
            event.cause = cause;
            let read = Event::decode(event.encode().unwrap()).unwrap();
            prop_assert_eq!(read, event);
        }

        /// Any names render the computed fields as the template says, with
        /// no key rules (separators, empty text and any Unicode are fine),
        /// and any secret seals and opens back: the stored item reads back
        /// as the same person.
        #[test]
        fn computed_and_encrypted_values_read_back(
            first in any::<String>(),
            last in any::<String>(),
            email in proptest::option::of(any::<String>()),
            ssn in proptest::option::of(any::<String>()),
            scan in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        ) {
            let _turn = KEYRING.blocking_lock();
            Keyring::new("k", [7; 32]).unwrap().install();
            let mut person = Person::new(NewPerson { id: "p".into(), first: first.clone(), last: last.clone() });
            person.email = email.clone();
            person.ssn = ssn;
            person.passport_scan = scan.map(Bytes);
            let stored = person.encode().unwrap();
            let search = format!("{} {}", last.to_lowercase(), first.to_lowercase());
            prop_assert_eq!(stored["search"].as_s().unwrap(), &search);
            let email_key = email.map(|e| e.to_lowercase());
            prop_assert_eq!(
                stored.get("email_key").map(|v| v.as_s().unwrap().clone()),
                email_key.clone()
            );
            // `email` was set after `new`: the struct's own copy is stale,
            // the stored one is rendered from the fields.
            let read = Person::decode(stored).unwrap();
            person.email_key = email_key;
            prop_assert_eq!(read, person);
        }
    }
}

/// `migration new` records a union's tags: a new variant is planned (every
/// stored value still reads), a removed one is refused (stored values may
/// be that variant and would not read).
#[test]
fn migration_new_allows_new_union_variants_and_refuses_removed_ones() {
    const SHOP: &str = r#"
[table]
name = "shop"
partition_key = "pk"

[union.Tender]
tag = "kind"
variants = VARIANTS

[type.Card]
last4 = "string"

[type.Cash]
currency = "string"

[type.Voucher]
code = "string"

[item.Order.keys]
pk = "ORDER#{id}"

[item.Order.fields]
id = "string"
paid = "list<Tender>"
"#;
    let dir = schema_folder();
    let new = |variants: &str, name: &str| {
        std::fs::write(
            dir.path().join("shop.toml"),
            SHOP.replace("VARIANTS", variants),
        )
        .unwrap();
        migration_new(dir.path(), name)
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // `Voucher` unused at first: a warning only.
    ok(new(r#"{ card = "Card", cash = "Cash" }"#, "create shop"));
    ok(new(
        r#"{ card = "Card", cash = "Cash", voucher = "Voucher" }"#,
        "vouchers",
    ));
    let planned =
        std::fs::read_to_string(dir.path().join("migrations/0002_vouchers.toml")).unwrap();
    assert!(
        planned.contains("format = \"union kind: card, cash, voucher\"")
            && !planned.contains("op = \"transform\""),
        "{planned}"
    );
    let out = new(r#"{ card = "Card", voucher = "Voucher" }"#, "no cash");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("`cash` the union no longer has"), "{text}");
}
