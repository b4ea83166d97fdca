// Call page: keeps the transcript in step with the recording, and seeks on click.
(function () {
  const player = document.getElementById("player");
  const lines = Array.from(document.querySelectorAll("#transcript li[data-start]"));
  if (!lines.length) return;
  lines.forEach((li) => li.addEventListener("click", () => {
    if (!player) return;
    player.currentTime = parseFloat(li.dataset.start);
    player.play();
  }));
  if (!player) return;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    lines.forEach((li, i) => {
      const start = parseFloat(li.dataset.start);
      const next = lines[i + 1] ? parseFloat(lines[i + 1].dataset.start) : Infinity;
      const end = li.dataset.end ? parseFloat(li.dataset.end) : next;
      const active = t >= start && t < Math.max(end, start + 0.1);
      li.classList.toggle("active", active);
    });
    document.body.dataset.playhead = t.toFixed(2);
  });
})();
