//! Session tests against a scripted peer over an in-memory pipe.

use super::*;
use std::time::Duration;
use tokio::io::{DuplexStream, duplex};

/// The far end of the pipe, playing nvim.
pub(crate) struct Peer {
    stream: DuplexStream,
    buf: Vec<u8>,
    scanner: Scanner,
}

impl Peer {
    pub(crate) async fn read(&mut self) -> Value {
        loop {
            if let Some(len) = self.scanner.next_message(&self.buf).unwrap() {
                let v = rmpv::decode::read_value(&mut &self.buf[..len]).unwrap();
                self.buf.drain(..len);
                return v;
            }
            let n = self.stream.read_buf(&mut self.buf).await.unwrap();
            assert!(n > 0, "session closed its end");
        }
    }

    pub(crate) async fn write(&mut self, v: Value) {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &v).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }
}

pub(crate) type Notes = Arc<Mutex<Vec<(String, Value)>>>;

pub(crate) fn start(
    requests: RequestTable,
) -> (Session, tokio::task::JoinHandle<Result<(), SessionError>>, Peer, Notes) {
    let (ours, theirs) = duplex(1 << 16);
    let (r, w) = tokio::io::split(ours);
    let notes: Notes = Arc::default();
    let seen = notes.clone();
    let sink = move |method: &str, params: &[ValueRef<'_>]| {
        let params = Value::Array(params.iter().map(ValueRef::to_owned).collect());
        seen.lock().unwrap().push((method.to_owned(), params));
    };
    let (session, task) = Session::start(r, w, Dispatch { sink, requests, recorder: None });
    (session, task, Peer { stream: theirs, buf: Vec::new(), scanner: Scanner::default() }, notes)
}

fn request_parts(v: &Value) -> (u32, String, Vec<Value>) {
    let a = v.as_array().expect("message is an array");
    assert_eq!(a[0].as_u64(), Some(0), "not a request: {v}");
    (a[1].as_u64().unwrap() as u32, a[2].as_str().unwrap().to_owned(), a[3].as_array().unwrap().clone())
}

fn response(id: u32, error: Value, result: Value) -> Value {
    Value::Array(vec![1.into(), id.into(), error, result])
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn responses_in_any_order_reach_their_callers() {
    rt().block_on(async {
        let (session, _task, mut peer, _) = start(RequestTable::default());
        let a = tokio::spawn({
            let s = session.clone();
            async move { s.call("first", vec![]).await }
        });
        let b = tokio::spawn({
            let s = session.clone();
            async move { s.call("second", vec![]).await }
        });
        let (id1, m1, _) = request_parts(&peer.read().await);
        let (id2, m2, _) = request_parts(&peer.read().await);
        assert_ne!(id1, id2);
        // Answer in reverse order; each answer names its own method.
        peer.write(response(id2, Value::Nil, m2.clone().into())).await;
        peer.write(response(id1, Value::Nil, m1.clone().into())).await;
        assert_eq!(a.await.unwrap().unwrap(), Value::from("first"));
        assert_eq!(b.await.unwrap().unwrap(), Value::from("second"));
    });
}

#[test]
fn nvim_errors_become_typed_errors() {
    rt().block_on(async {
        let (session, _task, mut peer, _) = start(RequestTable::default());
        let call = tokio::spawn({
            let s = session.clone();
            async move { s.call("nvim_command", vec!["bad".into()]).await }
        });
        let (id, _, _) = request_parts(&peer.read().await);
        let err = Value::Array(vec![1.into(), "Vim:E492: Not an editor command: bad".into()]);
        peer.write(response(id, err, Value::Nil)).await;
        assert_eq!(
            call.await.unwrap(),
            Err(RpcError::Nvim { kind: 1, message: "Vim:E492: Not an editor command: bad".into() })
        );
    });
}

#[test]
fn notifications_arrive_in_order() {
    rt().block_on(async {
        let (_session, task, mut peer, notes) = start(RequestTable::default());
        for i in 0..50 {
            let n = Value::Array(vec![2.into(), format!("n{i}").into(), Value::Array(vec![i.into()])]);
            peer.write(n).await;
        }
        drop(peer);
        task.await.unwrap().unwrap();
        let notes = notes.lock().unwrap();
        let names: Vec<&str> = notes.iter().map(|(m, _)| m.as_str()).collect();
        let expected: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
        assert_eq!(names, expected);
        assert_eq!(notes[7].1, Value::Array(vec![7.into()]));
    });
}

#[test]
fn nvim_requests_are_answered_while_ours_is_pending() {
    rt().block_on(async {
        let requests = RequestTable::default().on("add_one", |args| {
            let n = args.first().and_then(Value::as_i64).ok_or_else(|| Value::from("need a number"))?;
            Ok((n + 1).into())
        });
        let (session, _task, mut peer, _) = start(requests);
        let ours = tokio::spawn({
            let s = session.clone();
            async move { s.call("slow_query", vec![]).await }
        });
        let (our_id, _, _) = request_parts(&peer.read().await);
        // While our request is unanswered, nvim asks us twice.
        peer.write(Value::Array(vec![0.into(), 7.into(), "add_one".into(), Value::Array(vec![41.into()])]))
            .await;
        peer.write(Value::Array(vec![0.into(), 8.into(), "nope".into(), Value::Array(vec![])])).await;
        let answer = peer.read().await;
        assert_eq!(answer, response(7, Value::Nil, 42.into()));
        let refusal = peer.read().await;
        let a = refusal.as_array().unwrap();
        assert_eq!((a[0].as_u64(), a[1].as_u64()), (Some(1), Some(8)));
        assert!(a[2].to_string().contains("no handler for request 'nope'"), "{refusal}");
        assert!(!ours.is_finished());
        peer.write(response(our_id, Value::Nil, "done".into())).await;
        assert_eq!(ours.await.unwrap().unwrap(), Value::from("done"));
    });
}

#[test]
fn input_overtakes_queued_queries() {
    rt().block_on(async {
        let (session, _task, mut peer, _) = start(RequestTable::default());
        // Nothing is written until this task yields, so all of these queue up.
        for i in 0..100 {
            session.notify(Lane::Query, "query", vec![i.into()]).unwrap();
        }
        session.input("<Esc>").unwrap();
        let first = peer.read().await;
        assert_eq!(first.as_array().unwrap()[1].as_str(), Some("nvim_input"), "{first}");
        let second = peer.read().await;
        assert_eq!(second.as_array().unwrap()[1].as_str(), Some("query"));
    });
}

#[test]
fn a_truncated_stream_ends_the_session_and_fails_pending_calls() {
    rt().block_on(async {
        let (session, task, mut peer, _) = start(RequestTable::default());
        let call = tokio::spawn({
            let s = session.clone();
            async move { s.call("x", vec![]).await }
        });
        peer.read().await;
        // The start of a 3-element array, then the peer hangs up.
        peer.write_raw(&[0x93, 0x01]).await;
        drop(peer);
        let ended = tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
        assert!(matches!(ended, Err(SessionError::Truncated(2))), "{ended:?}");
        assert_eq!(call.await.unwrap(), Err(RpcError::Closed));
        assert!(session.is_closed());
        assert_eq!(session.call("after", vec![]).await, Err(RpcError::Closed));
    });
}

/// A server that goes away with bytes of ours unread (killed, or quitting
/// while a request was on its way) resets a Unix socket instead of ending
/// it: the session ends as at the end of the stream, not with an error.
#[cfg(unix)]
#[test]
fn a_peer_that_hangs_up_without_reading_ends_the_session_cleanly() {
    rt().block_on(async {
        let (ours, theirs) = tokio::net::UnixStream::pair().unwrap();
        let (r, w) = tokio::io::split(ours);
        let sink = |_: &str, _: &[ValueRef<'_>]| {};
        let (session, task) =
            Session::start(r, w, Dispatch { sink, requests: RequestTable::default(), recorder: None });
        let call = tokio::spawn({
            let s = session.clone();
            async move { s.call("never_read", vec![]).await }
        });
        // The request reaches the peer's socket; the peer never reads it.
        theirs.readable().await.unwrap();
        drop(theirs);
        let ended = tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
        assert!(matches!(ended, Ok(())), "{ended:?}");
        assert_eq!(call.await.unwrap(), Err(RpcError::Closed));
        assert!(session.is_closed());
    });
}

#[test]
fn garbage_ends_the_session_with_a_clear_error() {
    let cases: Vec<(&[u8], &str)> = vec![
        (&[0xc1], "not msgpack"),
        (&[0x2a], "not an array"),
        (&[0x93, 0x05, 0x01, 0x02], "unknown message type"),
        (&[0x94, 0x00, 0xa1, b'x', 0xa1, b'm', 0x90], "bad request"),
        (&[0x94, 0x01, 0xc0, 0xc0, 0xc0], "bad response id"),
        (&[0x93, 0x02, 0x01, 0x90], "bad notification"),
    ];
    for (bytes, expected) in cases {
        rt().block_on(async {
            let (_session, task, mut peer, _) = start(RequestTable::default());
            peer.write_raw(bytes).await;
            let ended = tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
            let msg = ended.expect_err("garbage must end the session").to_string();
            assert!(msg.contains(expected), "{bytes:02x?}: {msg}");
        });
    }
}

#[test]
fn invalid_utf8_method_names_decode_lossily() {
    rt().block_on(async {
        let (_session, task, mut peer, notes) = start(RequestTable::default());
        // [2, "re\xffdraw", []]
        peer.write_raw(&[0x93, 0x02, 0xa7, b'r', b'e', 0xff, b'd', b'r', b'a', b'w', 0x90]).await;
        drop(peer);
        task.await.unwrap().unwrap();
        assert_eq!(notes.lock().unwrap()[0].0, "re\u{fffd}draw");
    });
}

#[test]
fn blocking_calls_work_from_plain_threads_and_time_out() {
    let rt = rt();
    let (session, _task, mut peer, _) = rt.block_on(async { start(RequestTable::default()) });
    let s = session.clone();
    let worker = std::thread::spawn(move || {
        let quick = s.call_blocking("quick", vec![]);
        let slow = s.call_blocking_timeout(Lane::Query, "slow", vec![], Some(Duration::from_millis(50)));
        (quick, slow)
    });
    rt.block_on(async {
        let (id, _, _) = request_parts(&peer.read().await);
        peer.write(response(id, Value::Nil, 1.into())).await;
        // Read "slow" but never answer it.
        peer.read().await;
        while !worker.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let (quick, slow) = worker.join().unwrap();
    assert_eq!(quick, Ok(Value::from(1)));
    assert_eq!(slow, Ok(None));
}

#[test]
fn a_deferred_answer_leaves_the_reader_free_and_a_silent_one_times_out() {
    rt().block_on(async {
        let parked: Arc<Mutex<Vec<Responder>>> = Arc::default();
        let keep = parked.clone();
        let requests = RequestTable::default()
            .on_deferred("later", Duration::from_secs(30), |args, responder| {
                responder.answer(Ok(args[0].clone()));
            })
            .on_deferred("never", Duration::from_millis(200), move |_, responder| {
                keep.lock().unwrap().push(responder);
            });
        let (_session, _task, mut peer, notes) = start(requests);
        peer.write(Value::Array(vec![0.into(), 7.into(), "never".into(), Value::Array(vec![])])).await;
        peer.write(Value::Array(vec![2.into(), "after".into(), Value::Array(vec![])])).await;
        peer.write(Value::Array(vec![0.into(), 8.into(), "later".into(), Value::Array(vec!["x".into()])]))
            .await;
        // The answered request comes back first; the reader went on to the
        // notification while "never" was still unanswered.
        assert_eq!(peer.read().await, response(8, Value::Nil, "x".into()));
        assert_eq!(notes.lock().unwrap().len(), 1);
        let late = peer.read().await;
        let items = late.as_array().unwrap();
        assert_eq!(items[1], Value::from(7));
        assert!(items[2].to_string().contains("no answer for 'never'"), "{late}");
        // An answer after the timeout is not sent twice.
        assert!(!parked.lock().unwrap()[0].answer(Ok(Value::Nil)));
    });
}

#[test]
fn a_responder_dropped_unanswered_still_answers_nvim() {
    rt().block_on(async {
        let requests =
            RequestTable::default().on_deferred("dropped", Duration::from_secs(30), |_, r| drop(r));
        let (_session, _task, mut peer, _) = start(requests);
        peer.write(Value::Array(vec![0.into(), 3.into(), "dropped".into(), Value::Array(vec![])])).await;
        let answer = peer.read().await;
        assert!(answer.as_array().unwrap()[2].to_string().contains("without an answer"), "{answer}");
    });
}
