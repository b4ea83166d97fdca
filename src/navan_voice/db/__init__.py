"""The travel database: tables, engine and sessions, repositories, migrations, demo data.

Public entry points: ``make_engine``, ``make_session_factory``, ``transaction``,
``upgrade_database`` (``navan_voice.db.engine``) and ``seed_database`` (``navan_voice.db.seed``).
"""
