"""The access decision (DESIGN §3): pure rules over facts loaded beforehand."""
