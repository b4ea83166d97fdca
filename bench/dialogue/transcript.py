"""Play scripted callers through the real travel agents with the offline engine and print
what was said and done, turn by turn (a quick look at reply quality; needs no keys).

    .venv/bin/python -m bench.dialogue.transcript
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from livekit.agents import AgentSession
from livekit.agents.voice.run_result import RunResult

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.state import CallState
from navan_voice.db.engine import make_session_factory
from navan_voice.db.seed import DEMO_PHONE, seed_database
from navan_voice.domain.models import Channel
from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine

CALLS = {
    "phone caller changes a flight": (
        Channel.PHONE,
        [
            "I need to move my flight UA 1542 to a later day",
            "The second one please",
            "yes go ahead",
            "what's the weather in New York",
            "thanks, that's all",
        ],
    ),
    "phone caller, ambiguous flight, cancel": (
        Channel.PHONE,
        ["I need to cancel my flight", "WN 2210", "yes please", "cancel my hotel too"],
    ),
    "phone caller moves hotel dates": (
        Channel.PHONE,
        ["I need to change my hotel dates", "check in December 4 and check out December 7", "yes"],
    ),
    "web caller, identify, policy, human": (
        Channel.WEB,
        [
            "hi",
            "my confirmation code is N V N 7 Q 2",
            "Rivera",
            "what's the hotel cap in New York?",
            "uh mm",
            "can I talk to a person",
        ],
    ),
}


def show(result: RunResult[None]) -> None:
    for ev in result.events:
        if ev.type == "message":
            print(f"  {ev.item.role:>9}: {ev.item.text_content}")
        elif ev.type == "function_call":
            print(f"      tool > {ev.item.name}({ev.item.arguments})")
        elif ev.type == "function_call_output":
            print(f"      tool < {ev.item.output[:160]}")
        elif ev.type == "agent_handoff":
            print(f"   handoff > {type(ev.new_agent).__name__}")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        for title, (channel, lines) in CALLS.items():
            url = f"sqlite:///{Path(tmp) / (str(abs(hash(title))) + '.db')}"
            seed_database(url)
            db = make_session_factory(url)
            phone = DEMO_PHONE if channel is Channel.PHONE else None
            state = CallState(call_id="demo", db=db, channel=channel, caller_phone=phone)
            await prepare_call(state)
            print(f"\n## {title}")
            model = LocalDialogueLLM(RulesEngine())
            async with AgentSession[CallState](llm=model, userdata=state) as session:
                show(await session.start(build_first_agent(state), capture_run=True))
                for line in lines:
                    print(f"     caller: {line}")
                    show(await session.run(user_input=line))


if __name__ == "__main__":
    asyncio.run(main())
