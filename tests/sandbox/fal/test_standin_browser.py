"""Chromium (Debian's build, through Playwright) decodes and plays a sandbox video."""

from __future__ import annotations

import shutil
import time
from typing import Any

import httpx
import pytest

from falflow.sandbox.fal import RunningStandin

CHROMIUM = shutil.which("chromium")

PLAY_VIDEO = """async (url) => {
  const video = document.createElement('video');
  video.muted = true;
  video.src = url;
  document.body.appendChild(video);
  await new Promise((resolve, reject) => {
    video.onloadeddata = resolve;
    video.onerror = () => reject(new Error('media error ' + (video.error && video.error.code)));
  });
  await video.play();
  await new Promise((resolve, reject) => {
    video.ontimeupdate = () => { if (video.currentTime > 0) resolve(); };
    setTimeout(() => reject(new Error('playback did not advance within 10 s')), 10000);
  });
  return {duration: video.duration, width: video.videoWidth, height: video.videoHeight, time: video.currentTime};
}"""


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.asyncio
async def test_chromium_plays_sandbox_video(http: httpx.Client, standin: RunningStandin) -> None:
    from playwright.async_api import async_playwright

    http.patch("/_sandbox/config", json={"time_scale": 0}).raise_for_status()
    submitted = http.post("/fal-ai/veo3.1", json={"prompt": "a lighthouse", "duration": "4s"}).json()
    for _ in range(500):
        if http.get(submitted["status_url"]).status_code == 200:
            break
        time.sleep(0.01)
    video_url = http.get(submitted["response_url"]).json()["video"]["url"]

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = await browser.new_page()
            await page.goto(f"{standin.url}/_sandbox/health")
            facts: dict[str, Any] = await page.evaluate(PLAY_VIDEO, video_url)
        finally:
            await browser.close()

    assert abs(facts["duration"] - 4.0) < 0.1
    assert (facts["width"], facts["height"]) == (256, 144)
    assert facts["time"] > 0
