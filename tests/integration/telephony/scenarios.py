"""sipp scenarios beyond a plain call: a caller that gets transferred (REFER), and a callee (UAS)
for outbound calls and for the human desk.

The caller side reuses ``sipp.INVITE_SCENARIO``; these fill its ``{answer}`` slot. sipp
variables: ``$ptag`` is livekit-sip's To-tag (saved from the 200 OK: a NOTIFY we send must carry
it).
"""

from __future__ import annotations

from bench.telephony.sipp import ANSWER_REQUEST as _ANSWER_REQUEST

_ACK = """<recv response="200" rtd="true">
    <action>
      <ereg regexp=";tag=([^;>[:space:]]+)" search_in="hdr" header="To:" assign_to="to_hdr,ptag"/>
    </action>
  </recv>
  <Reference variables="to_hdr"/>
  <send><![CDATA[
      ACK sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>;tag=[$ptag]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>"""

_BYE = """<send retrans="500"><![CDATA[
      BYE sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>;tag=[$ptag]
      Call-ID: [call_id]
      CSeq: 9 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>"""


# The caller speaks, then waits for livekit-sip's REFER (the agent's cold transfer), accepts it
# (202) and reports how the new leg went with a NOTIFY (message/sipfrag), as Twilio does.
# notify "200 OK": the transfer worked; livekit-sip then hangs its leg up (BYE), taken here.
# notify "480 Temporarily Unavailable" (the desk did not answer): the caller stays on the line
# with the agent for hold_ms and then hangs up; a BYE from livekit-sip during that time is an
# unexpected message, which fails the sipp run.
TRANSFERRED = (
    _ACK
    + """
  <pause milliseconds="{before_ms}"/>
  <nop><action><exec rtp_stream="{audio},1,0"/></action></nop>
  <recv request="REFER" timeout="{refer_wait_ms}" ontimeout="hangup"/>
  """
    + _ANSWER_REQUEST.replace("{code}", "202 Accepted")
    + """
  <pause milliseconds="{ring_ms}"/>
  <send retrans="500"><![CDATA[
      NOTIFY sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>;tag=[$ptag]
      Call-ID: [call_id]
      CSeq: 3 NOTIFY
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Event: refer
      Subscription-State: terminated;reason=noresource
      Max-Forwards: 70
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

      SIP/2.0 {notify_status}
  ]]></send>
  <recv response="200"/>
  {after_notify}
  <label id="hangup"/>
  """
    + _BYE
    + """
  <label id="done"/>"""
)

# after a NOTIFY 200: livekit-sip ends its leg (no BYE within bye_wait_ms fails the run)
AFTER_TRANSFER = """<recv request="BYE" timeout="{bye_wait_ms}"/>
  """ + _ANSWER_REQUEST.replace("{code}", "200 OK").replace("<send>", '<send next="done">')

# after a failed transfer: the caller listens for hold_ms (still connected), then hangs up
AFTER_FAILED_TRANSFER = """<pause milliseconds="{hold_ms}"/>"""


def transferred(
    *,
    to: str,
    caller: str,
    audio: str,
    before_ms: int,
    notify_status: str,
    refer_wait_ms: int = 90_000,
    ring_ms: int = 500,
    hold_ms: int = 12_000,
    # livekit-sip's BYE after the NOTIFY; on a loaded 2-core machine it answered the NOTIFY
    # only after 3 retransmissions and took over 8 s once (the behaviour, not the speed, is tested)
    bye_wait_ms: int = 25_000,
) -> str:
    """The ``{answer}`` part of a caller scenario that asks for a human and gets REFERred."""
    after = AFTER_TRANSFER if notify_status.startswith("200") else AFTER_FAILED_TRANSFER
    after = after.replace("{hold_ms}", str(hold_ms)).replace("{bye_wait_ms}", str(bye_wait_ms))
    return (
        TRANSFERRED.replace("{after_notify}", after)
        .replace("{before_ms}", str(before_ms))
        .replace("{audio}", audio)
        .replace("{refer_wait_ms}", str(refer_wait_ms))
        .replace("{ring_ms}", str(ring_ms))
        .replace("{notify_status}", notify_status)
        .replace("{to}", to)
        .replace("{caller}", caller)
    )


# A callee: rings, answers with an SDP whose media address is our RtpSink, and stays on the
# line until the other side hangs up (BYE), which it answers. Used for outbound calls.
_STREAM = """<nop><action><exec rtp_stream="{audio},-1,0"/></action></nop>"""

CALLEE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="navan callee">
  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port]>
      Content-Length: 0
  ]]></send>
  <pause milliseconds="{ring_ms}"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=callee 53655765 2353687637 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {rtp_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=sendrecv
  ]]></send>
  <recv request="ACK" crlf="true"/>
  %STREAM%
  <recv request="BYE" timeout="{hold_ms}"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:callee@[local_ip]:[local_port]>
      Content-Length: 0
  ]]></send>
</scenario>
""".replace("%STREAM%", _STREAM)


def callee(*, rtp_port: int, audio: str | None, ring_ms: int = 1000, hold_ms: int = 60_000) -> str:
    """A callee scenario; ``audio`` None: sipp sends no RTP (the test talks through its
    RtpSink instead, see ``RtpSink.start_talking``)."""
    scenario = CALLEE if audio is not None else CALLEE.replace(_STREAM, "")
    return (
        scenario.replace("{rtp_port}", str(rtp_port))
        .replace("{audio}", audio or "")
        .replace("{ring_ms}", str(ring_ms))
        .replace("{hold_ms}", str(hold_ms))
    )
