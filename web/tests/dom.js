// A jsdom document installed as the globals the widget uses, for the unit tests (node --test).
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html lang=\"fr\"><body></body></html>", { url: "http://127.0.0.1:8080/", pretendToBeVisual: true });
for (const name of ["window", "document", "sessionStorage", "Node", "HTMLElement", "CustomEvent"]) {
  globalThis[name] = name === "window" ? dom.window : dom.window[name];
}
export default dom;
