"""What data augmentation changes, and the training curves as a PNG.

Trains the quick-start CNN twice on 2,000 real digits (a small training set overfits):
once plain, once with random rotations, shifts and zooms drawn inside the jitted train
step.  It prints both final train/test accuracies (augmentation narrows the gap between
them) and saves both runs' loss and accuracy curves.  Needs matplotlib for the PNG
(``pip install 'lepton[plot]'``); without it the numbers are still printed.
Run: python examples/augmentation_curves.py [--epochs 15] [--out curves.png]
"""
import argparse

import lepton.keras as keras
from lepton.keras import layers

from _data import load_digits


def model_with(augmentation):
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        *augmentation,
        layers.Conv2D(6, (5, 5), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--out", default="augmentation_curves.png")
    args = ap.parse_args()
    x_train, y_train, x_test, y_test, _ = load_digits()
    x_train = x_train[:args.train, ..., None] / 255.0
    y_train = y_train[:args.train]
    x_test = x_test[..., None] / 255.0

    runs = {}
    for name, aug in [("plain", []),
                      ("augmented", [layers.RandomRotation(0.04),
                                     layers.RandomTranslation(0.1, 0.1),
                                     layers.RandomZoom(0.1)])]:
        model = model_with(aug)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs,
                            validation_data=(x_test, y_test), verbose=0)
        train_acc = model.evaluate(x_train, y_train, verbose=0)[1]
        test_acc = model.evaluate(x_test, y_test, verbose=0)[1]
        runs[name] = history
        print(f"{name:9s}: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}, "
              f"gap {train_acc - test_acc:+.4f}", flush=True)
    try:
        for name, history in runs.items():
            path = args.out.replace(".png", f"_{name}.png")
            history.plot(path)
            print(f"saved {path}")
    except ImportError as e:
        print(f"no curves: {e}")


if __name__ == "__main__":
    main()
