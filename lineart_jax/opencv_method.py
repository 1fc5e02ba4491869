"""The classic OpenCV line extraction the project is measured against.

Grayscale, dilate, subtract the original, invert: edges where a dark stroke
meets a lighter neighbourhood.  Fast, but it turns shading into lines and makes
lines in colors close to their surroundings faint (the seed's motivation).
"""

from __future__ import annotations

import cv2
import numpy as np

KERNEL = 3


def extract_lines(rgb: np.ndarray, kernel: int = KERNEL) -> np.ndarray:
  """uint8 RGB (H, W, 3) -> uint8 gray line art (H, W), ink dark on white."""
  gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
  dilated = cv2.dilate(gray, np.ones((kernel, kernel), np.uint8))
  return 255 - cv2.absdiff(dilated, gray)
